import type { Http2ProtocolOptions, HttpConnectionManager, RouteConfiguration } from '@il/config/runtime';
import {
  DEFAULT_HTTP_ACCESS_LOG_FORMAT,
  createAccessLoggers,
  validateAccessLogs,
  type AccessLogger,
  type ConfigFinding,
  type ClusterManager,
  type ComponentLog,
  type DrainManager,
  type NetworkFilterFactoryContext,
} from '@il/core';
import { compileRouteConfiguration, RouteConfigError, type RouteTable } from '../route/index.js';
import { loadUndici, sharedHttp1ConnectionPools, type Http1ConnectionPools } from '../router/http1-pools.js';
import { sharedMixedProtocolPools, type MixedProtocolPools } from '../router/mixed-protocol-pools.js';
import { sharedHttp2ConnectionPools, type Http2ConnectionPools } from '../upstream/index.js';
import { http2StallTimeoutMs } from '../codec/http2-defaults.js';
import { HcmStats } from './stats.js';

/** An HTTP connection manager config compiled once per filter chain: what every connection and stream reads. */
export interface HcmSettings {
  readonly statPrefix: string;
  readonly stats: HcmStats;
  readonly routes: RouteTable;
  readonly clusterManager: ClusterManager;
  readonly http1Pools: Http1ConnectionPools;
  readonly http2Pools: Http2ConnectionPools;
  /** auto_config clusters: HTTP/2 or HTTP/1.1 per host, by ALPN. */
  readonly mixedPools: MixedProtocolPools;
  readonly drain: DrainManager;
  readonly log: ComponentLog;
  readonly accessLoggers: readonly AccessLogger[];
  readonly flushLogOnTunnelEstablished: boolean;
  readonly codecType: 'AUTO' | 'HTTP1' | 'HTTP2';
  readonly serverName: string;
  readonly serverHeaderTransformation: 'OVERWRITE' | 'APPEND_IF_ABSENT' | 'PASS_THROUGH';
  readonly via: string;
  readonly forwardClientCertDetails: HttpConnectionManager['forward_client_cert_details'];
  readonly setCurrentClientCertDetails: HttpConnectionManager['set_current_client_cert_details'];
  readonly useRemoteAddress: boolean;
  readonly xffNumTrustedHops: number;
  readonly skipXffAppend: boolean;
  readonly generateRequestId: boolean;
  readonly preserveExternalRequestId: boolean;
  readonly alwaysSetRequestIdInResponse: boolean;
  /** 0 disables. */
  readonly streamIdleTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly requestHeadersTimeoutMs: number;
  /** common_http_protocol_options.idle_timeout; 0 disables. */
  readonly idleTimeoutMs: number;
  readonly maxConnectionDurationMs: number;
  readonly maxStreamDurationMs: number;
  readonly maxRequestsPerConnection: number;
  readonly drainTimeoutMs: number;
  readonly maxRequestHeadersBytes: number;
  readonly maxHeadersCount: number;
  readonly headersWithUnderscoresAction: 'ALLOW' | 'REJECT_REQUEST' | 'DROP_HEADER';
  readonly acceptHttp10: boolean;
  readonly defaultHostForHttp10: string;
  readonly http2: {
    readonly allowConnect: boolean;
    readonly maxConcurrentStreams: number;
    readonly initialStreamWindowSize: number;
    readonly initialConnectionWindowSize: number;
    readonly hpackTableSize: number;
    /** See Http2CodecSocket: queued bytes the client takes none of for this long close the connection. */
    readonly stallTimeoutMs: number;
    readonly connectionKeepalive: Http2ProtocolOptions['connection_keepalive'];
  };
}

/** The missing route_config's message (il has no RDS). */
const NO_ROUTE_CONFIG = 'route_config is required (il reads static config only)';

function routeTableOf(config: HttpConnectionManager, routeConfig: RouteConfiguration): RouteTable {
  return compileRouteConfiguration(routeConfig, {
    upgradeConfigs: config.upgrade_configs,
    stripAnyHostPort: config.strip_any_host_port,
    stripMatchingHostPort: config.strip_matching_host_port,
  });
}

/**
 * What compileHttpConnectionManager would refuse (the route table, the access log formats), found
 * without building anything, with paths under the HCM config.
 */
export function validateHttpConnectionManager(config: HttpConnectionManager): ConfigFinding[] {
  const findings = validateAccessLogs(config.access_log, DEFAULT_HTTP_ACCESS_LOG_FORMAT);
  const routeConfig = config.route_config;
  if (routeConfig === undefined) return [...findings, { path: 'route_config', message: NO_ROUTE_CONFIG }];
  try {
    routeTableOf(config, routeConfig);
  } catch (error) {
    if (!(error instanceof RouteConfigError)) throw error;
    findings.push({ path: error.path === '' ? 'route_config' : `route_config.${error.path}`, message: error.reason });
  }
  return findings;
}

/** Compiles an HttpConnectionManager config; throws (with the route error's path) for a route table Envoy refuses. */
export function compileHttpConnectionManager(config: HttpConnectionManager, context: NetworkFilterFactoryContext): HcmSettings {
  const routeConfig = config.route_config;
  if (routeConfig === undefined) throw new Error(`http_connection_manager '${config.stat_prefix}': ${NO_ROUTE_CONFIG}`);
  let routes: RouteTable;
  try {
    routes = routeTableOf(config, routeConfig);
  } catch (error) {
    throw new Error(`http_connection_manager '${config.stat_prefix}': route_config: ${(error as Error).message}`, { cause: error });
  }
  if (mayProxyHttp(routeConfig)) loadUndici();
  const common = config.common_http_protocol_options;
  const h2 = config.http2_protocol_options;
  const h1 = config.http_protocol_options;
  return {
    statPrefix: config.stat_prefix,
    stats: new HcmStats(context.scope, config.stat_prefix),
    routes,
    clusterManager: context.clusterManager,
    http1Pools: sharedHttp1ConnectionPools(context),
    http2Pools: sharedHttp2ConnectionPools(context),
    mixedPools: sharedMixedProtocolPools(context),
    drain: context.drain,
    log: context.log('http'),
    accessLoggers: createAccessLoggers(config.access_log, { defaultFormat: DEFAULT_HTTP_ACCESS_LOG_FORMAT, fileManager: context.accessLogFiles }),
    flushLogOnTunnelEstablished: config.access_log_options?.flush_log_on_tunnel_successfully_established ?? false,
    codecType: config.codec_type as 'AUTO' | 'HTTP1' | 'HTTP2',
    serverName: config.server_name,
    serverHeaderTransformation: config.server_header_transformation,
    via: config.via,
    forwardClientCertDetails: config.forward_client_cert_details,
    setCurrentClientCertDetails: config.set_current_client_cert_details,
    useRemoteAddress: config.use_remote_address,
    xffNumTrustedHops: config.xff_num_trusted_hops,
    skipXffAppend: config.skip_xff_append,
    generateRequestId: config.generate_request_id,
    preserveExternalRequestId: config.preserve_external_request_id,
    alwaysSetRequestIdInResponse: config.always_set_request_id_in_response,
    streamIdleTimeoutMs: config.stream_idle_timeout.ms,
    requestTimeoutMs: config.request_timeout.ms,
    requestHeadersTimeoutMs: config.request_headers_timeout.ms,
    idleTimeoutMs: common.idle_timeout.ms,
    maxConnectionDurationMs: common.max_connection_duration?.ms ?? 0,
    maxStreamDurationMs: common.max_stream_duration?.ms ?? 0,
    maxRequestsPerConnection: common.max_requests_per_connection ?? 0,
    drainTimeoutMs: config.drain_timeout.ms,
    maxRequestHeadersBytes: config.max_request_headers_kb * 1024,
    maxHeadersCount: common.max_headers_count,
    headersWithUnderscoresAction: common.headers_with_underscores_action,
    acceptHttp10: h1.accept_http_10,
    defaultHostForHttp10: h1.default_host_for_http_10,
    http2: {
      allowConnect: h2.allow_connect,
      maxConcurrentStreams: h2.max_concurrent_streams,
      initialStreamWindowSize: h2.initial_stream_window_size,
      initialConnectionWindowSize: h2.initial_connection_window_size,
      hpackTableSize: h2.hpack_table_size,
      stallTimeoutMs: http2StallTimeoutMs(h2),
      connectionKeepalive: h2.connection_keepalive,
    },
  };
}

/**
 * Whether a route table may send a request upstream as HTTP (through undici): any route with a
 * cluster, except CONNECT routes that terminate (connect_config), whose upstream is raw TCP.
 */
function mayProxyHttp(routeConfig: RouteConfiguration): boolean {
  return routeConfig.virtual_hosts.some((virtualHost) =>
    virtualHost.routes.some((route) => {
      if (route.route === undefined) return false;
      const terminatesConnect = route.match.connect_matcher !== undefined && route.route.upgrade_configs.some((upgrade) => upgrade.connect_config !== undefined);
      return !terminatesConnect;
    }),
  );
}
