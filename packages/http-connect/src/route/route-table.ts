/**
 * compileRouteConfiguration: a RouteConfiguration compiled once into a table that answers, per
 * request, which virtual host and route match and what to do (Envoy's ConfigImpl, RouteMatcher,
 * VirtualHostImpl and RouteEntryImplBase). Every regex, format string and direct-response body is
 * compiled or read here, so a bad config fails at startup and lookups only compare strings.
 */
import type { HeaderValueOption, Route, RouteAction, RouteConfiguration, VirtualHost } from '@il/config/runtime';
import type { FormatContext, HeaderMap, StreamInfo } from '@il/core';
import { stripHostPort } from './authority.js';
import { readDirectResponseBody } from './direct-response.js';
import { DomainIndex } from './domains.js';
import { RouteConfigError } from './errors.js';
import { compileHeaderMatcher, compileQueryParameterMatcher, type HeaderCondition, type QueryCondition } from './header-matcher.js';
import { HeaderMutations } from './header-mutations.js';
import { compilePathMatch, type PathMatch } from './path-match.js';
import { compileRedirect, requestUri, type CompiledRedirect, type UriSource } from './redirect.js';
import { pathWithoutQuery, RequestView } from './request-view.js';
import { compileRegexRewrite } from './string-matcher.js';
import type {
  CompiledRoute,
  CompiledVirtualHost,
  RouteDirectResponse,
  RouteForward,
  RouteMatchAction,
  RouteMatchResult,
  RouteRequest,
  RouteTable,
  RouteTableOptions,
  UpgradeDecision,
} from './types.js';
import { compileHcmUpgrades, compileRouteUpgrades, decideUpgrade, requestedUpgrade, type RouteUpgrades } from './upgrade.js';

// ---------------------------------------------------------------- header mutations

interface MutationConfig {
  readonly request_headers_to_add: readonly HeaderValueOption[];
  readonly request_headers_to_remove: readonly string[];
  readonly response_headers_to_add: readonly HeaderValueOption[];
  readonly response_headers_to_remove: readonly string[];
}

/** One level's request and response mutations (undefined = nothing to do). */
interface Mutations {
  readonly request: HeaderMutations | undefined;
  readonly response: HeaderMutations | undefined;
}

function compileMutations(config: MutationConfig, path: string): Mutations {
  const at = (field: string) => (path === '' ? field : `${path}.${field}`);
  return {
    request: HeaderMutations.compile(config.request_headers_to_add, config.request_headers_to_remove, {
      add: at('request_headers_to_add'),
      remove: at('request_headers_to_remove'),
    }),
    response: HeaderMutations.compile(config.response_headers_to_add, config.response_headers_to_remove, {
      add: at('response_headers_to_add'),
      remove: at('response_headers_to_remove'),
    }),
  };
}

/**
 * The levels in Envoy's evaluation order without most_specific_header_mutations_wins (il does not
 * read that field): route, then virtual host, then route configuration. A later level wins an
 * overwrite; appends accumulate in this order.
 */
function mutationChain(levels: readonly Mutations[], side: 'request' | 'response'): readonly HeaderMutations[] {
  return levels.map((level) => level[side]).filter((m): m is HeaderMutations => m !== undefined);
}

// ---------------------------------------------------------------- actions

interface WeightedEntry {
  readonly weight: number;
  readonly name: string | undefined;
  readonly header: string | undefined;
  readonly mutations: Mutations;
}

type ClusterSpec =
  | { readonly kind: 'name'; readonly name: string }
  | { readonly kind: 'header'; readonly header: string }
  | { readonly kind: 'weighted'; readonly entries: readonly WeightedEntry[]; readonly total: number };

interface ForwardPlan {
  readonly kind: 'route';
  readonly cluster: ClusterSpec;
  readonly timeoutMs: number;
  readonly idleTimeoutMs: number | undefined;
  readonly maxStreamDurationMs: number | undefined;
  readonly rewritePath: (path: string) => string;
  readonly hostRewriteLiteral: string | undefined;
  readonly autoHostRewrite: boolean;
  readonly hostRewriteHeader: string | undefined;
  readonly upgrades: RouteUpgrades;
}

interface DirectPlan {
  readonly kind: 'direct_response';
  readonly status: number;
  readonly body: Buffer | undefined;
}

interface RedirectPlan {
  readonly kind: 'redirect';
  readonly redirect: CompiledRedirect;
}

type ActionPlan = ForwardPlan | DirectPlan | RedirectPlan;

const identity = (path: string): string => path;

function compileClusterSpec(action: RouteAction, path: string): ClusterSpec {
  if (action.cluster !== undefined && action.cluster !== '') return { kind: 'name', name: action.cluster };
  if (action.cluster_header !== undefined) return { kind: 'header', header: action.cluster_header.toLowerCase() };
  if (action.weighted_clusters !== undefined) {
    const at = `${path}.weighted_clusters.clusters`;
    // total_weight is deprecated and ignored, as in current Envoy: the weights' sum is the total.
    const entries = action.weighted_clusters.clusters.map((entry, i): WeightedEntry => {
      const name = entry.name === '' ? undefined : entry.name;
      const header = entry.cluster_header?.toLowerCase();
      if ((name === undefined) === (header === undefined)) {
        throw new RouteConfigError(`${at}[${i}]`, name === undefined ? 'At least one of name or cluster_header need to be specified' : 'Only one of name or cluster_header can be specified');
      }
      return { weight: entry.weight, name, header, mutations: compileMutations(entry, `${at}[${i}]`) };
    });
    const total = entries.reduce((sum, entry) => sum + entry.weight, 0);
    if (total === 0) throw new RouteConfigError(`${path}.weighted_clusters`, 'Sum of weights in the weighted_cluster must be greater than 0.');
    return { kind: 'weighted', entries, total };
  }
  throw new RouteConfigError(path, 'the route action names no cluster (cluster, cluster_header or weighted_clusters)');
}

function compileRewrite(action: RouteAction, pathMatch: PathMatch, path: string): (path: string) => string {
  const prefix = action.prefix_rewrite ?? '';
  if (prefix !== '' && action.regex_rewrite !== undefined) {
    throw new RouteConfigError(`${path}.regex_rewrite`, 'Specify only one of prefix_rewrite, regex_rewrite or path_rewrite_policy');
  }
  if (action.regex_rewrite !== undefined) {
    const rewrite = compileRegexRewrite(action.regex_rewrite.pattern.regex, action.regex_rewrite.substitution, `${path}.regex_rewrite`);
    // The whole path is rewritten, its query kept.
    return (requestPath) => {
      const justPath = pathWithoutQuery(requestPath);
      return rewrite(justPath) + requestPath.slice(justPath.length);
    };
  }
  // The matched prefix (or the whole path, for regex and CONNECT routes) is replaced.
  if (prefix !== '') return (requestPath) => prefix + requestPath.slice(pathMatch.matchedLength(requestPath));
  return identity;
}

const wholeMs = (duration: { readonly ms: number } | undefined): number | undefined => (duration === undefined ? undefined : Math.trunc(duration.ms));

function compileForward(action: RouteAction, pathMatch: PathMatch, path: string): ForwardPlan {
  return {
    kind: 'route',
    cluster: compileClusterSpec(action, path),
    timeoutMs: Math.trunc(action.timeout.ms),
    idleTimeoutMs: wholeMs(action.idle_timeout),
    maxStreamDurationMs: wholeMs(action.max_stream_duration?.max_stream_duration),
    rewritePath: compileRewrite(action, pathMatch, path),
    hostRewriteLiteral: action.host_rewrite_literal === '' ? undefined : action.host_rewrite_literal,
    autoHostRewrite: action.auto_host_rewrite === true,
    hostRewriteHeader: action.host_rewrite_header?.toLowerCase(),
    upgrades: compileRouteUpgrades(action.upgrade_configs, `${path}.upgrade_configs`),
  };
}

function compilePlan(route: Route, pathMatch: PathMatch, path: string): ActionPlan {
  if (route.route !== undefined) return compileForward(route.route, pathMatch, `${path}.route`);
  if (route.direct_response !== undefined) {
    const body = route.direct_response.body === undefined ? undefined : readDirectResponseBody(route.direct_response.body, `${path}.direct_response.body`);
    return { kind: 'direct_response', status: route.direct_response.status, body: body === undefined || body.length === 0 ? undefined : body };
  }
  if (route.redirect !== undefined) return { kind: 'redirect', redirect: compileRedirect(route.redirect, `${path}.redirect`) };
  throw new RouteConfigError(path, 'the route has no action (route, redirect or direct_response)');
}

// ---------------------------------------------------------------- routes and virtual hosts

class RouteEntry implements CompiledRoute {
  readonly name: string;
  readonly #headers: readonly HeaderCondition[];
  readonly #query: readonly QueryCondition[];
  readonly requestMutations: readonly HeaderMutations[];
  readonly responseMutations: readonly HeaderMutations[];

  constructor(
    readonly config: Route,
    readonly virtualHost: VirtualHostEntry,
    readonly pathMatch: PathMatch,
    readonly plan: ActionPlan,
    headers: readonly HeaderCondition[],
    query: readonly QueryCondition[],
    inherited: readonly Mutations[],
  ) {
    this.name = config.name;
    this.#headers = headers;
    this.#query = query;
    this.requestMutations = mutationChain(inherited, 'request');
    this.responseMutations = mutationChain(inherited, 'response');
  }

  static compile(config: Route, host: VirtualHostEntry, globalMutations: Mutations, path: string): RouteEntry {
    const pathMatch = compilePathMatch(config.match, `${path}.match`);
    const headers = config.match.headers.map((matcher, i) => compileHeaderMatcher(matcher, `${path}.match.headers[${i}]`));
    const query = config.match.query_parameters.map((matcher, i) => compileQueryParameterMatcher(matcher, `${path}.match.query_parameters[${i}]`));
    const plan = compilePlan(config, pathMatch, path);
    const own = compileMutations(config, path);
    return new RouteEntry(config, host, pathMatch, plan, headers, query, [own, host.mutations, globalMutations]);
  }

  /** The route's upgrade_configs, for routes that forward (Envoy has no route upgrade map otherwise). */
  get upgrades(): RouteUpgrades | undefined {
    return this.plan.kind === 'route' ? this.plan.upgrades : undefined;
  }

  matches(view: RequestView): boolean {
    for (const condition of this.#headers) if (!condition(view.header)) return false;
    if (this.#query.length > 0) {
      const params = view.query;
      for (const condition of this.#query) if (!condition(params)) return false;
    }
    return this.pathMatch.matches(view);
  }
}

/** require_tls: answer plain-HTTP requests with a 301 to https://<host><path> (Envoy's SslRedirectRoute, no header mutations). */
const SSL_REDIRECT: CompiledRedirect = {
  status: 301,
  location: (source) => `https://${source.authority}${source.path}`,
};

/** A stand-in Route config for the require_tls redirect, which has no route of its own in the config. */
function sslRedirectRouteConfig(): Route {
  return {
    name: '',
    match: { prefix: '', case_sensitive: true, headers: [], query_parameters: [] },
    redirect: { https_redirect: true, response_code: 'MOVED_PERMANENTLY', strip_query: false },
    request_headers_to_add: [],
    request_headers_to_remove: [],
    response_headers_to_add: [],
    response_headers_to_remove: [],
  };
}

class VirtualHostEntry implements CompiledVirtualHost {
  readonly name: string;
  routes: readonly RouteEntry[] = [];
  /** The require_tls redirect, when the virtual host requires TLS. */
  sslRedirect: RouteEntry | undefined;

  constructor(
    readonly config: VirtualHost,
    readonly mutations: Mutations,
  ) {
    this.name = config.name;
  }

  static compile(config: VirtualHost, globalMutations: Mutations, path: string): VirtualHostEntry {
    const host = new VirtualHostEntry(config, compileMutations(config, path));
    host.routes = config.routes.map((route, i) => RouteEntry.compile(route, host, globalMutations, `${path}.routes[${i}]`));
    if (config.require_tls !== 'NONE') {
      const anyPath: PathMatch = { pathless: true, matches: () => true, matchedLength: () => 0 };
      host.sslRedirect = new RouteEntry(sslRedirectRouteConfig(), host, anyPath, { kind: 'redirect', redirect: SSL_REDIRECT }, [], [], []);
    }
    return host;
  }

  /** Whether require_tls sends this request to https (by x-forwarded-proto, as Envoy decides). */
  needsTls(view: RequestView): boolean {
    if (view.forwardedProto === 'https') return false;
    return this.config.require_tls === 'ALL' || view.header('x-envoy-internal') !== 'true';
  }
}

// ---------------------------------------------------------------- lookups

/** The first value of a header (cluster_header reads only the first, as the header is untrusted). */
function firstValue(view: RequestView, name: string): string | undefined {
  if (name.startsWith(':') || name === 'host') return view.header(name);
  const value = view.request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function clusterFromHeader(view: RequestView, header: string): string | undefined {
  const value = firstValue(view, header);
  return value === undefined || value === '' ? undefined : value;
}

class Match implements RouteMatchResult {
  constructor(
    readonly virtualHost: VirtualHostEntry,
    readonly route: RouteEntry,
    readonly action: RouteMatchAction,
    readonly upgrade: UpgradeDecision,
    /** The picked weighted cluster's own mutations, evaluated before the route's. */
    private readonly clusterMutations: Mutations | undefined,
  ) {}

  mutateRequestHeaders(headers: HeaderMap, streamInfo: StreamInfo): void {
    const own = this.clusterMutations?.request;
    const chain = this.route.requestMutations;
    if (own === undefined && chain.length === 0) return;
    // %REQ(...)% reads the headers being mutated, as in Envoy.
    const saved = streamInfo.requestHeaders;
    streamInfo.requestHeaders = headers;
    try {
      const context: FormatContext = { streamInfo };
      own?.apply(headers, context);
      for (const mutations of chain) mutations.apply(headers, context);
    } finally {
      streamInfo.requestHeaders = saved;
    }
  }

  mutateResponseHeaders(headers: HeaderMap, streamInfo: StreamInfo): void {
    const own = this.clusterMutations?.response;
    const chain = this.route.responseMutations;
    if (own === undefined && chain.length === 0) return;
    // %RESP(...)% reads the response headers being mutated.
    const saved = streamInfo.responseHeaders;
    streamInfo.responseHeaders = headers;
    try {
      const context: FormatContext = { streamInfo };
      own?.apply(headers, context);
      for (const mutations of chain) mutations.apply(headers, context);
    } finally {
      streamInfo.responseHeaders = saved;
    }
  }
}

class CompiledRouteTable implements RouteTable {
  readonly name: string;
  readonly virtualHosts: readonly VirtualHostEntry[];
  readonly internalOnlyHeaders: readonly string[];
  readonly #domains = new DomainIndex<VirtualHostEntry>();
  readonly #hcmUpgrades: ReadonlyMap<string, boolean>;
  readonly #stripAnyPort: boolean;
  readonly #stripMatchingPort: boolean;
  readonly #random: () => number;

  constructor(config: RouteConfiguration, options: RouteTableOptions) {
    if (options.stripAnyHostPort === true && options.stripMatchingHostPort === true) {
      throw new RouteConfigError('', 'Error: Only one of `strip_matching_host_port` or `strip_any_host_port` can be set.');
    }
    this.name = config.name;
    this.#hcmUpgrades = compileHcmUpgrades(options.upgradeConfigs);
    this.#stripAnyPort = options.stripAnyHostPort === true;
    this.#stripMatchingPort = options.stripMatchingHostPort === true;
    this.#random = options.random ?? Math.random;
    this.internalOnlyHeaders = config.internal_only_headers.map((name) => name.toLowerCase());
    const globalMutations = compileMutations(config, '');
    this.virtualHosts = config.virtual_hosts.map((hostConfig, i) => {
      const path = `virtual_hosts[${i}]`;
      const host = VirtualHostEntry.compile(hostConfig, globalMutations, path);
      this.#domains.add(hostConfig.domains, host, config.name, `${path}.domains`);
      return host;
    });
  }

  route(request: RouteRequest): RouteMatchResult | undefined {
    const view = new RequestView(request, this.#authority(request));
    const host = this.#domains.find(view.authority);
    if (host === undefined) return undefined;
    if (host.sslRedirect !== undefined && host.needsTls(view)) return this.#match(host, host.sslRedirect, view);
    for (const route of host.routes) {
      if (view.path === undefined && !route.pathMatch.pathless) continue;
      if (route.matches(view)) return this.#match(host, route, view);
    }
    return undefined;
  }

  upgradeDecision(request: RouteRequest, route?: CompiledRoute): UpgradeDecision {
    return decideUpgrade(request, this.#hcmUpgrades, route instanceof RouteEntry ? route.upgrades : undefined);
  }

  /** The authority virtual hosts are matched on: without its port when the HCM strips ports. */
  #authority(request: RouteRequest): string {
    if (this.#stripAnyPort) return stripHostPort(request.authority);
    if (this.#stripMatchingPort && request.localPort !== undefined) return stripHostPort(request.authority, request.localPort);
    return request.authority;
  }

  #match(host: VirtualHostEntry, route: RouteEntry, view: RequestView): Match {
    const plan = route.plan;
    const request = view.request;
    switch (plan.kind) {
      case 'route': {
        const upgrade = decideUpgrade(request, this.#hcmUpgrades, plan.upgrades);
        let cluster: string | undefined;
        let clusterHeader: string | undefined;
        let clusterMutations: Mutations | undefined;
        const spec = plan.cluster;
        if (spec.kind === 'name') {
          cluster = spec.name;
        } else if (spec.kind === 'header') {
          clusterHeader = spec.header;
          cluster = clusterFromHeader(view, spec.header);
        } else {
          const entry = pickWeighted(spec.entries, spec.total, this.#random());
          clusterMutations = entry.mutations;
          if (entry.name !== undefined) {
            cluster = entry.name;
          } else if (entry.header !== undefined) {
            clusterHeader = entry.header;
            cluster = clusterFromHeader(view, entry.header);
          }
        }
        const action: RouteForward = {
          kind: 'route',
          cluster,
          timeoutMs: plan.timeoutMs,
          idleTimeoutMs: plan.idleTimeoutMs,
          rewritePath: plan.rewritePath,
          hostRewriteLiteral: plan.hostRewriteLiteral,
          autoHostRewrite: plan.autoHostRewrite,
          hostRewriteHeader: plan.hostRewriteHeader,
          upgrade,
          maxStreamDurationMs: plan.maxStreamDurationMs,
        };
        if (clusterHeader !== undefined) action.clusterHeader = clusterHeader;
        return new Match(host, route, action, upgrade, clusterMutations);
      }
      case 'direct_response': {
        const upgrade = decideUpgrade(request, this.#hcmUpgrades, undefined);
        // Envoy's router adds Location to a direct 201 or 3xx: the request's own URL.
        const withLocation = plan.status === 201 || (plan.status >= 300 && plan.status < 400);
        const location = withLocation && view.path !== undefined ? requestUri(uriSource(view, view.path)) : undefined;
        const action: RouteDirectResponse = { kind: 'direct_response', status: plan.status, body: plan.body, location };
        return new Match(host, route, action, upgrade, undefined);
      }
      case 'redirect': {
        const upgrade = decideUpgrade(request, this.#hcmUpgrades, undefined);
        const location = view.path === undefined ? '' : plan.redirect.location(uriSource(view, view.path), route.pathMatch.matchedLength);
        return new Match(host, route, { kind: 'redirect', status: plan.redirect.status, location }, upgrade, undefined);
      }
    }
  }
}

function uriSource(view: RequestView, path: string): UriSource {
  return { path, authority: view.authority, scheme: view.scheme, forwardedProto: view.forwardedProto };
}

/** A weighted pick: a point in [0, total) falls in one entry's interval, in config order (Envoy's pickWeightedCluster). */
function pickWeighted(entries: readonly WeightedEntry[], total: number, random: number): WeightedEntry {
  const point = Math.min(Math.floor(random * total), total - 1);
  let end = 0;
  for (const entry of entries) {
    end += entry.weight;
    if (point < end) return entry;
  }
  return entries[entries.length - 1] as WeightedEntry;
}

/**
 * Compiles a RouteConfiguration. Throws RouteConfigError (with the field's path and, where Envoy
 * has one, Envoy's message) for anything it cannot compile: a bad regex, a duplicate domain, an
 * unreadable or oversized direct_response file, a bad format string in a header value, a
 * pseudo-header or Host in headers_to_add/remove.
 */
export function compileRouteConfiguration(config: RouteConfiguration, options: RouteTableOptions): RouteTable {
  return new CompiledRouteTable(config, options);
}

/**
 * The upgrade a request asks for: 'CONNECT' for CONNECT (and extended CONNECT with :protocol
 * 'bytestream'), the :protocol / Upgrade header value lower-cased otherwise ('websocket'), undefined
 * for plain requests. A POST counts as CONNECT only on a `route` whose connect_config has allow_post.
 */
export function upgradeTypeOf(request: RouteRequest, route?: CompiledRoute): string | undefined {
  const allowPost = route instanceof RouteEntry && route.upgrades?.connect?.allowPost === true;
  return requestedUpgrade(request, allowPost);
}
