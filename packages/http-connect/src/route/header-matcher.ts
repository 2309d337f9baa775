/** Route `headers` and `query_parameters` conditions (Envoy's HeaderUtility::matchHeaders and ConfigUtility::matchQueryParams). */
import type { HeaderMatcher, QueryParameterMatcher } from '@il/config/runtime';
import { compileStringMatcher } from './string-matcher.js';

/** A header's value as matchers see it: all its values joined with ',' (Envoy's getAllOfHeaderAsString); undefined when absent. */
export type HeaderLookup = (name: string) => string | undefined;

export type HeaderCondition = (lookup: HeaderLookup) => boolean;

export function compileHeaderMatcher(config: HeaderMatcher, path: string): HeaderCondition {
  const name = config.name.toLowerCase();
  const invert = config.invert_match;
  const missingAsEmpty = config.treat_missing_header_as_empty;
  if (!('string_match' in config)) {
    const present = config.present_match;
    // A present_match compares presence only; invert flips the result in both cases.
    return (lookup) => {
      const value = lookup(name);
      const isPresent = value !== undefined || missingAsEmpty;
      return (isPresent ? present : !present) !== invert;
    };
  }
  const match = compileStringMatcher(config.string_match, `${path}.string_match`);
  return (lookup) => {
    const value = lookup(name);
    // A missing header fails a value condition, inverted or not (unless it counts as empty).
    if (value === undefined && !missingAsEmpty) return false;
    return match(value ?? '') !== invert;
  };
}

/** The query string's parameters, first value of each name, not percent-decoded (Envoy's QueryParamsMulti::parseQueryString). */
export function parseQuery(path: string): Map<string, string> {
  const params = new Map<string, string>();
  const question = path.indexOf('?');
  if (question === -1) return params;
  let end = path.indexOf('#', question);
  if (end === -1) end = path.length;
  let start = question + 1;
  while (start < end) {
    let stop = path.indexOf('&', start);
    if (stop === -1 || stop > end) stop = end;
    const equals = path.indexOf('=', start);
    const [key, value] = equals !== -1 && equals < stop ? [path.slice(start, equals), path.slice(equals + 1, stop)] : [path.slice(start, stop), ''];
    if (!params.has(key)) params.set(key, value);
    start = stop + 1;
  }
  return params;
}

export type QueryCondition = (params: ReadonlyMap<string, string>) => boolean;

/**
 * A query parameter condition. The parameter must be present; with string_match its first value must
 * match. As in Envoy, `present_match: false` still asks for presence (only string_match is read).
 */
export function compileQueryParameterMatcher(config: QueryParameterMatcher, path: string): QueryCondition {
  const name = config.name;
  if (!('string_match' in config)) return (params) => params.has(name);
  const match = compileStringMatcher(config.string_match, `${path}.string_match`);
  return (params) => {
    const value = params.get(name);
    return value !== undefined && match(value);
  };
}
