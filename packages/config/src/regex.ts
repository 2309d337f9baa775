/**
 * Envoy's regexes are Google RE2: linear in the length of the input, with no backreferences and
 * no lookaround. Every regex a config carries (safe_regex route and header matchers, string
 * matchers, regex_rewrite, the admin's stats filter) goes through this one engine, re2js (a port of
 * RE2 to JavaScript), so that a 64 KiB request path costs microseconds whatever the pattern, and
 * what RE2 refuses is refused at validation with RE2's own message.
 */
import { RE2JS } from 're2js';

/** A compiled RE2 regex. */
export interface Re2 {
  readonly pattern: string;
  /** Capturing groups in the pattern. */
  readonly groupCount: number;
  /** RE2::FullMatch: the whole input matches. */
  fullMatch(input: string): boolean;
  /** RE2::PartialMatch: some part of the input matches. */
  partialMatch(input: string): boolean;
  /**
   * RE2::GlobalReplace: every non-overlapping match replaced by `rewrite(groups)`, where
   * `groups[0]` is the whole match and `groups[n]` the n-th group ('' when it did not take part).
   */
  replaceAll(input: string, rewrite: (groups: readonly string[]) => string): string;
}

/** The problem RE2 has with `pattern`, in RE2's words, or undefined when it compiles. */
export function re2Problem(pattern: string): string | undefined {
  try {
    RE2JS.compile(pattern);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/** Compiles `pattern` with RE2 semantics; throws an Error carrying RE2's message when it does not compile. */
export function compileRe2(pattern: string): Re2 {
  const compiled = RE2JS.compile(pattern);
  const groupCount = compiled.groupCount();
  return {
    pattern,
    groupCount,
    fullMatch: (input) => compiled.matches(input),
    partialMatch: (input) => compiled.matcher(input).find(),
    replaceAll: (input, rewrite) => {
      const matcher = compiled.matcher(input);
      let out = '';
      let last = 0;
      const groups: string[] = new Array<string>(groupCount + 1);
      while (matcher.find()) {
        const start = matcher.start();
        const end = matcher.end();
        for (let i = 0; i <= groupCount; i++) groups[i] = matcher.group(i) ?? '';
        out += input.slice(last, start) + rewrite(groups);
        last = end;
      }
      return out + input.slice(last);
    },
  };
}
