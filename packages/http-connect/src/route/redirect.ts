/**
 * Redirect Locations, as Envoy builds them (Http::Utility::newUri and the route's redirect path
 * rewrite): scheme, host, port and path each from the redirect config or else from the request.
 */
import type { RedirectAction } from '@il/config/runtime';
import { compileRegexRewrite } from './string-matcher.js';
import { pathWithoutQuery } from './request-view.js';

const REDIRECT_STATUS: Readonly<Record<RedirectAction['response_code'], number>> = {
  MOVED_PERMANENTLY: 301,
  FOUND: 302,
  SEE_OTHER: 303,
  TEMPORARY_REDIRECT: 307,
  PERMANENT_REDIRECT: 308,
};

/** What newUri needs of the request. */
export interface UriSource {
  /** The request path (after any redirect rewrite). */
  readonly path: string;
  /** The authority as the HCM left it (port stripped when configured). */
  readonly authority: string;
  /** The request's scheme (`:scheme`). */
  readonly scheme: string;
  /** `x-forwarded-proto`, the protocol the client used as far as Envoy knows. */
  readonly forwardedProto: string;
}

function isScheme(scheme: string, expected: 'http' | 'https'): boolean {
  return scheme.toLowerCase() === expected;
}

/**
 * The request's host for the Location: without its port when a port_redirect replaces it, or when
 * the scheme changes and the port was the old scheme's default (`http://foo:80` → `https://foo`).
 */
function requestHost(source: UriSource, newScheme: string, newPort: string): string {
  const host = source.authority;
  if (host === '') return host;
  let hostEnd: number;
  if (host.startsWith('[')) {
    hostEnd = host.lastIndexOf(']:');
    if (hostEnd !== -1) hostEnd += 1;
  } else {
    hostEnd = host.lastIndexOf(':');
  }
  if (hostEnd === -1) return host;
  const requestPort = host.slice(hostEnd);
  const protocol = source.forwardedProto;
  let removePort = newPort !== '';
  if (newScheme !== protocol) {
    removePort ||= isScheme(protocol, 'https') && requestPort === ':443';
    removePort ||= isScheme(protocol, 'http') && requestPort === ':80';
  }
  return removePort ? host.slice(0, hostEnd) : host;
}

export interface CompiledRedirect {
  readonly status: number;
  /** The Location for a request; `matchedLength` is how much of the path the route matched (for prefix_rewrite). */
  location(source: UriSource, matchedLength: (path: string) => number): string;
}

export function compileRedirect(config: RedirectAction, path: string): CompiledRedirect {
  const schemeRedirect = config.scheme_redirect ?? '';
  const httpsRedirect = config.https_redirect === true;
  const hostRedirect = config.host_redirect ?? '';
  const portRedirect = config.port_redirect !== undefined && config.port_redirect !== 0 ? `:${config.port_redirect}` : '';
  const pathRedirect = config.path_redirect ?? '';
  // A query in path_redirect wins over the request's, and strip_query leaves it alone.
  const pathRedirectHasQuery = pathRedirect.includes('?');
  const prefixRewrite = config.prefix_rewrite ?? '';
  const regexRewrite = config.regex_rewrite === undefined ? undefined : compileRegexRewrite(config.regex_rewrite.pattern.regex, config.regex_rewrite.substitution, `${path}.regex_rewrite`);
  const stripQuery = config.strip_query;

  return {
    status: REDIRECT_STATUS[config.response_code],
    location(source, matchedLength) {
      // The route first rewrites :path with the redirect's prefix_rewrite or regex_rewrite.
      let requestPath = source.path;
      if (regexRewrite !== undefined) {
        const justPath = pathWithoutQuery(requestPath);
        requestPath = regexRewrite(justPath) + requestPath.slice(justPath.length);
      } else if (prefixRewrite !== '') {
        requestPath = prefixRewrite + requestPath.slice(matchedLength(requestPath));
      }

      const scheme = schemeRedirect !== '' ? schemeRedirect : httpsRedirect ? 'https' : source.scheme;
      const host = hostRedirect !== '' ? hostRedirect : requestHost(source, scheme, portRedirect);
      let finalPath: string;
      if (pathRedirect === '') {
        finalPath = requestPath;
      } else if (pathRedirectHasQuery) {
        finalPath = pathRedirect;
      } else {
        const query = requestPath.indexOf('?');
        finalPath = query === -1 ? pathRedirect : pathRedirect + requestPath.slice(query);
      }
      if (!finalPath.startsWith('/')) finalPath = `/${finalPath}`;
      if (stripQuery && !pathRedirectHasQuery) {
        const query = finalPath.indexOf('?');
        if (query !== -1) finalPath = finalPath.slice(0, query);
      }
      return `${scheme}://${host}${portRedirect}${finalPath}`;
    },
  };
}

/** The Location Envoy's router adds to a direct response of 201 or 3xx: the request's own URL. */
export function requestUri(source: UriSource): string {
  const path = source.path.startsWith('/') ? source.path : `/${source.path}`;
  return `${source.scheme}://${requestHost(source, source.scheme, '')}${path}`;
}
