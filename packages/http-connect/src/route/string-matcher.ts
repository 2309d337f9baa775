/**
 * envoy.type.matcher.v3 StringMatcher and RegexMatcher at run time. Envoy's regexes are RE2, and so
 * are these (@il/config's compileRe2: linear time, the engine the config was validated with); a regex
 * match is always a full match, as RE2::FullMatch is.
 */
import { compileRe2, type Re2, type RegexMatcher, type StringMatcher } from '@il/config/runtime';
import { RouteConfigError } from './errors.js';

export type StringMatch = (value: string) => boolean;

/** `pattern` compiled as RE2; a pattern RE2 refuses is a RouteConfigError at `path`. */
export function compileRegex(pattern: string, path: string): Re2 {
  try {
    return compileRe2(pattern);
  } catch (error) {
    throw new RouteConfigError(path, `Invalid regex '${pattern}': ${error instanceof Error ? error.message : String(error)}`);
  }
}

export function compileRegexMatcher(matcher: RegexMatcher, path: string): StringMatch {
  const regex = compileRegex(matcher.regex, `${path}.regex`);
  return (value) => regex.fullMatch(value);
}

export function compileStringMatcher(matcher: StringMatcher, path: string): StringMatch {
  const ignoreCase = matcher.ignore_case;
  if (matcher.exact !== undefined) {
    const expected = matcher.exact;
    if (!ignoreCase) return (value) => value === expected;
    const lower = expected.toLowerCase();
    return (value) => value.length === lower.length && value.toLowerCase() === lower;
  }
  if (matcher.prefix !== undefined) {
    const prefix = matcher.prefix;
    if (!ignoreCase) return (value) => value.startsWith(prefix);
    const lower = prefix.toLowerCase();
    return (value) => value.length >= lower.length && value.slice(0, lower.length).toLowerCase() === lower;
  }
  if (matcher.suffix !== undefined) {
    const suffix = matcher.suffix;
    if (!ignoreCase) return (value) => value.endsWith(suffix);
    const lower = suffix.toLowerCase();
    return (value) => value.length >= lower.length && value.slice(value.length - lower.length).toLowerCase() === lower;
  }
  if (matcher.contains !== undefined) {
    const needle = matcher.contains;
    if (!ignoreCase) return (value) => value.includes(needle);
    const lower = needle.toLowerCase();
    return (value) => value.toLowerCase().includes(lower);
  }
  if (matcher.safe_regex !== undefined) return compileRegexMatcher(matcher.safe_regex, `${path}.safe_regex`);
  throw new RouteConfigError(path, 'the string matcher has no condition (exact, prefix, suffix, contains or safe_regex)');
}

/**
 * regex_rewrite: RE2's rewrite string (`\1` for a group, `\0` for the whole match, `\\` for a
 * backslash) compiled to a JavaScript replacer. Every match is replaced, as RE2::GlobalReplace does.
 */
export function compileRegexRewrite(pattern: string, substitution: string, path: string): (input: string) => string {
  const regex = compileRegex(pattern, `${path}.pattern.regex`);
  const groups = regex.groupCount;
  const parts: Array<string | number> = [];
  let literal = '';
  for (let i = 0; i < substitution.length; i++) {
    const ch = substitution[i] as string;
    if (ch !== '\\') {
      literal += ch;
      continue;
    }
    const next = substitution[i + 1];
    if (next === '\\') {
      literal += '\\';
      i++;
    } else if (next !== undefined && next >= '0' && next <= '9') {
      const group = Number(next);
      if (group > groups) {
        throw new RouteConfigError(`${path}.substitution`, `Rewrite schema error: '\\${group}' exceeds the ${groups} capturing group(s) of '${pattern}'`);
      }
      if (literal !== '') parts.push(literal);
      literal = '';
      parts.push(group);
      i++;
    } else {
      throw new RouteConfigError(`${path}.substitution`, "Rewrite schema error: '\\' not allowed without a digit or another '\\'");
    }
  }
  if (literal !== '') parts.push(literal);
  if (parts.every((part) => typeof part === 'string')) {
    const text = parts.join('');
    return (input) => regex.replaceAll(input, () => text);
  }
  return (input) =>
    regex.replaceAll(input, (matched) => {
      let out = '';
      for (const part of parts) out += typeof part === 'string' ? part : (matched[part] ?? '');
      return out;
    });
}
