/** The route table's public shapes: what the HTTP connection manager asks and what it gets back. */
import type { Route, VirtualHost } from '@il/config/runtime';
import type { HeaderMap, StreamInfo } from '@il/core';

export interface RouteTableOptions {
  /** HCM-level upgrade_configs: which upgrade types are enabled by default (CONNECT is off unless listed). */
  upgradeConfigs: ReadonlyArray<{ upgrade_type: string; enabled: boolean }>;
  /** HCM strip_any_host_port: match virtual hosts on the authority without its port. */
  stripAnyHostPort?: boolean | undefined;
  /** HCM strip_matching_host_port: drop the port only when it is the listener's (`RouteRequest.localPort`). */
  stripMatchingHostPort?: boolean | undefined;
  /** A number in [0, 1) for weighted cluster picks; Math.random by default (tests pass a seeded one). */
  random?: (() => number) | undefined;
}

export interface RouteRequest {
  /** 'GET', 'CONNECT', ... */
  method: string;
  /** :authority / Host, e.g. 'foo.com:8080' (for CONNECT: the target 'host:port'). */
  authority: string;
  /** undefined for classic CONNECT (no :path). */
  path: string | undefined;
  /** HTTP/2 extended CONNECT :protocol. */
  protocol?: string | undefined;
  /** Lower-case names, pseudo-headers included (@il/core HeaderMap). */
  headers: HeaderMap;
  /** The listener port, for strip_matching_host_port. */
  localPort?: number | undefined;
  /**
   * The request's scheme (`:scheme`; for HTTP/1.1 'http' or 'https' from the connection). Used for
   * redirects. Defaults to the `:scheme` header, else `x-forwarded-proto`, else 'http'.
   */
  scheme?: string | undefined;
}

/** CONNECT termination settings of a route (its CONNECT upgrade's connect_config). */
export interface ConnectTermination {
  allowPost: boolean;
  proxyProtocolVersion?: 'V1' | 'V2';
}

/** For a request that is an upgrade or CONNECT: whether it is allowed on this route, and how CONNECT is handled. */
export type UpgradeDecision =
  /** Not an upgrade request. */
  | { kind: 'none' }
  /** 403 upgrade_failed (Envoy's downstream_rq_ws_on_non_ws_route). */
  | { kind: 'rejected'; upgradeType: string }
  /** connectConfig present = terminate CONNECT (route upgrade_configs[].connect_config). */
  | { kind: 'allowed'; upgradeType: string; connectConfig?: ConnectTermination };

export interface CompiledVirtualHost {
  readonly name: string;
  readonly config: VirtualHost;
  readonly routes: readonly CompiledRoute[];
}

export interface CompiledRoute {
  /** Route.name, what `%ROUTE_NAME%` prints. */
  readonly name: string;
  readonly config: Route;
  readonly virtualHost: CompiledVirtualHost;
}

/** Forward to a cluster (Envoy's RouteAction). */
export interface RouteForward {
  kind: 'route';
  /** Chosen for this request (a weighted pick is made per call); undefined if cluster_header named an absent header. */
  cluster: string | undefined;
  /** The header the cluster name came from, when it came from cluster_header. */
  clusterHeader?: string;
  /** Upstream timeout; 15000 by default, 0 = none. */
  timeoutMs: number;
  idleTimeoutMs: number | undefined;
  /** prefix_rewrite or regex_rewrite applied to a request path (query kept); the identity when neither is set. */
  rewritePath(path: string): string;
  hostRewriteLiteral: string | undefined;
  autoHostRewrite: boolean;
  /** host_rewrite_header: the request header whose value becomes the upstream host. */
  hostRewriteHeader: string | undefined;
  upgrade: UpgradeDecision;
  maxStreamDurationMs: number | undefined;
}

/** A local reply from the route itself (Envoy's DirectResponseAction). */
export interface RouteDirectResponse {
  kind: 'direct_response';
  status: number;
  /** undefined when the route has no body (or an empty one). */
  body: Buffer | undefined;
  /**
   * Envoy's router also sends a Location header with a direct response of 201 or 3xx: the request's
   * own URL (scheme, host, path). undefined for other statuses and for requests without a path.
   */
  location: string | undefined;
}

/** A redirect (Envoy's RedirectAction), with the Location already computed from the request. */
export interface RouteRedirect {
  kind: 'redirect';
  status: number;
  /** '' for a request without a path (classic CONNECT): Envoy sends no Location then. */
  location: string;
}

export type RouteMatchAction = RouteForward | RouteDirectResponse | RouteRedirect;

export interface RouteMatchResult {
  virtualHost: CompiledVirtualHost;
  route: CompiledRoute;
  action: RouteMatchAction;
  /**
   * The upgrade decision for any action: for direct responses and redirects only the HCM-level
   * upgrade_configs count (Envoy has no route upgrade map there). Same as `action.upgrade` for 'route'.
   */
  upgrade: UpgradeDecision;
  /** Applies request header mutations of the weighted cluster, route, virtual host and route configuration, in Envoy's order, with format strings evaluated against the StreamInfo. */
  mutateRequestHeaders(headers: HeaderMap, streamInfo: StreamInfo): void;
  /** Same for response headers (used for proxied, direct and local replies alike). */
  mutateResponseHeaders(headers: HeaderMap, streamInfo: StreamInfo): void;
}

export interface RouteTable {
  /** RouteConfiguration.name. */
  readonly name: string;
  readonly virtualHosts: readonly CompiledVirtualHost[];
  /** internal_only_headers, lower-cased: the HCM removes them from requests of external clients. */
  readonly internalOnlyHeaders: readonly string[];
  /** The matched virtual host and route, or undefined when there is no virtual host or no route (404 NR). */
  route(request: RouteRequest): RouteMatchResult | undefined;
  /**
   * The upgrade decision for a request, on `route` or, without one, from the HCM-level upgrade_configs
   * alone. Envoy checks upgrades before the router runs, so a CONNECT that matches no route is
   * still refused with 403 (not 404) when CONNECT is not enabled on the HCM.
   */
  upgradeDecision(request: RouteRequest, route?: CompiledRoute): UpgradeDecision;
}
