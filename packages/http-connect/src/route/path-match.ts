/**
 * A route's path specifier. Paths are compared without their query and fragment, as Envoy's
 * PathMatcher does. `case_sensitive: false` applies to prefix, path and path_separated_prefix;
 * Envoy ignores it for safe_regex.
 * Only connect_matcher can match a request without a path (classic CONNECT).
 */
import type { RouteMatch } from '@il/config/runtime';
import { RouteConfigError } from './errors.js';
import { pathWithoutQuery, type RequestView } from './request-view.js';
import { compileRegex } from './string-matcher.js';

export interface PathMatch {
  /** connect_matcher: considered for requests without :path. */
  readonly pathless: boolean;
  readonly matches: (view: RequestView) => boolean;
  /** How many leading characters of `path` the matcher matched: what prefix_rewrite replaces. */
  readonly matchedLength: (path: string) => number;
}

function startsWith(path: string, prefix: string, lowerPrefix: string | undefined): boolean {
  if (lowerPrefix === undefined) return path.startsWith(prefix);
  return path.length >= prefix.length && path.slice(0, prefix.length).toLowerCase() === lowerPrefix;
}

const wholePathLength = (path: string): number => pathWithoutQuery(path).length;

export function compilePathMatch(match: RouteMatch, path: string): PathMatch {
  const caseSensitive = match.case_sensitive;
  if (match.prefix !== undefined) {
    const prefix = match.prefix;
    const lower = caseSensitive ? undefined : prefix.toLowerCase();
    return {
      pathless: false,
      matches: (view) => view.pathOnly !== undefined && startsWith(view.pathOnly, prefix, lower),
      matchedLength: () => prefix.length,
    };
  }
  if (match.path !== undefined) {
    const exact = match.path;
    const lower = caseSensitive ? undefined : exact.toLowerCase();
    return {
      pathless: false,
      matches: (view) => {
        const p = view.pathOnly;
        if (p === undefined) return false;
        return lower === undefined ? p === exact : p.length === exact.length && p.toLowerCase() === lower;
      },
      matchedLength: () => exact.length,
    };
  }
  if (match.safe_regex !== undefined) {
    const regex = compileRegex(match.safe_regex.regex, `${path}.safe_regex.regex`);
    return {
      pathless: false,
      matches: (view) => view.pathOnly !== undefined && regex.fullMatch(view.pathOnly),
      matchedLength: wholePathLength,
    };
  }
  if (match.path_separated_prefix !== undefined) {
    const prefix = match.path_separated_prefix;
    const lower = caseSensitive ? undefined : prefix.toLowerCase();
    return {
      pathless: false,
      matches: (view) => {
        const p = view.pathOnly;
        return p !== undefined && startsWith(p, prefix, lower) && (p.length === prefix.length || p[prefix.length] === '/');
      },
      matchedLength: () => prefix.length,
    };
  }
  if (match.connect_matcher !== undefined) {
    return { pathless: true, matches: (view) => view.isConnect, matchedLength: wholePathLength };
  }
  throw new RouteConfigError(path, 'the route match has no path specifier (prefix, path, safe_regex, path_separated_prefix or connect_matcher)');
}
