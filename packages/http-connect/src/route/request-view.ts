/**
 * A request as the route table's matchers see it, built once per lookup. It reproduces what Envoy's
 * HCM and codecs have done to the header map before routing: the port stripped from the authority
 * (strip_any_host_port / strip_matching_host_port), `host` read as `:authority`, and an HTTP/2
 * extended CONNECT for a protocol other than bytestream seen as an HTTP/1-style upgrade (GET with
 * `upgrade: <protocol>`, no :protocol).
 */
import { parseQuery, type HeaderLookup } from './header-matcher.js';
import type { RouteRequest } from './types.js';
import { isProtocolUpgradeConnect } from './upgrade.js';

/** The path without its query and fragment (Envoy's PathUtil::removeQueryAndFragment). */
export function pathWithoutQuery(path: string): string {
  for (let i = 0; i < path.length; i++) {
    const ch = path.charCodeAt(i);
    if (ch === 0x3f /* ? */ || ch === 0x23 /* # */) return path.slice(0, i);
  }
  return path;
}

function joined(value: string | string[] | undefined): string | undefined {
  if (value === undefined || typeof value === 'string') return value;
  return value.length === 0 ? undefined : value.join(',');
}

export class RequestView {
  /** The method routing sees: GET for a websocket-style extended CONNECT. */
  readonly method: string;
  /** A CONNECT as Envoy's HeaderUtility::isConnect sees it: classic, or extended with :protocol bytestream. */
  readonly isConnect: boolean;
  readonly path: string | undefined;
  #pathOnly: string | undefined;
  #query: Map<string, string> | undefined;
  readonly #protocolUpgrade: boolean;

  constructor(
    readonly request: RouteRequest,
    /** The authority after port stripping. */
    readonly authority: string,
  ) {
    this.#protocolUpgrade = isProtocolUpgradeConnect(request);
    this.method = this.#protocolUpgrade ? 'GET' : request.method;
    this.isConnect = this.method === 'CONNECT';
    this.path = request.path;
  }

  /** The path without query and fragment; undefined without a path. */
  get pathOnly(): string | undefined {
    if (this.#pathOnly === undefined && this.path !== undefined) this.#pathOnly = pathWithoutQuery(this.path);
    return this.#pathOnly;
  }

  get query(): ReadonlyMap<string, string> {
    this.#query ??= parseQuery(this.path ?? '');
    return this.#query;
  }

  /** A header's value for matchers: all values joined with ','; pseudo-headers from the request's fields. */
  readonly header: HeaderLookup = (name) => {
    switch (name) {
      case ':authority':
      case 'host':
        return this.authority;
      case ':method':
        return this.method;
      case ':path':
        return this.path;
      case ':protocol':
        return this.#protocolUpgrade ? undefined : (this.request.protocol ?? joined(this.request.headers[':protocol']));
      case ':scheme':
        return this.scheme;
      case 'upgrade':
        if (this.#protocolUpgrade) return this.request.protocol;
        break;
      case 'connection':
        if (this.#protocolUpgrade) return 'upgrade';
        break;
    }
    return joined(this.request.headers[name]);
  };

  /** The request's scheme: RouteRequest.scheme, else `:scheme`, else `x-forwarded-proto`, else 'http'. */
  get scheme(): string {
    return this.request.scheme ?? joined(this.request.headers[':scheme']) ?? joined(this.request.headers['x-forwarded-proto']) ?? 'http';
  }

  /** What Envoy reads as the request's protocol for TLS and redirect decisions: `x-forwarded-proto`, else the scheme. */
  get forwardedProto(): string {
    return joined(this.request.headers['x-forwarded-proto']) ?? this.scheme;
  }
}
