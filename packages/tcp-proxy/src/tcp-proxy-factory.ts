import type { TcpProxy } from '@il/config/runtime';
import {
  DEFAULT_HTTP_ACCESS_LOG_FORMAT,
  createAccessLoggers,
  tcpUpstreamConnector,
  validateAccessLogs,
  type ConfigFinding,
  type NetworkFilterFactory,
  type NetworkFilterFactoryContext,
  type UpstreamConnector,
} from '@il/core';
import { createTunnelConnector, validateTunnelingConfig } from '@il/http-connect';
import { RouteSelector } from './route.js';
import { TcpProxySession, type TcpProxySettings } from './tcp-proxy-session.js';
import { TcpProxyStats } from './tcp-proxy-stats.js';

export const TCP_PROXY_TYPE_URL = 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy';

/** Builds the connector for tunneling_config (HTTP CONNECT/POST). */
export type TunnelConnectorFactory = (config: NonNullable<TcpProxy['tunneling_config']>, context: NetworkFilterFactoryContext) => UpstreamConnector;

export interface TcpProxyFactoryOptions {
  /** How tunneling_config upstreams are opened (default: @il/http-connect's HTTP/1.1 and HTTP/2 tunnels). */
  tunnelConnector?: TunnelConnectorFactory | undefined;
}

/** Compiles a TcpProxy config once per filter chain; every connection gets a session from it. */
export function compileTcpProxy(config: TcpProxy, context: NetworkFilterFactoryContext, options: TcpProxyFactoryOptions = {}): TcpProxySettings {
  let tunnelConnector: UpstreamConnector | undefined;
  if (config.tunneling_config !== undefined) {
    tunnelConnector = (options.tunnelConnector ?? createTunnelConnector)(config.tunneling_config, context);
  }
  const backoff = config.backoff_options;
  const logOptions = config.access_log_options;
  return {
    stats: new TcpProxyStats(context.scope, config.stat_prefix),
    route: new RouteSelector(config),
    clusterManager: context.clusterManager,
    tcpConnector: tcpUpstreamConnector,
    tunnelConnector,
    idleTimeoutMs: config.idle_timeout.ms,
    maxConnectAttempts: config.max_connect_attempts,
    backoff:
      backoff === undefined
        ? undefined
        : // @il/config fills max_interval with Envoy's default (10 x base_interval).
          { baseMs: backoff.base_interval.ms, maxMs: backoff.max_interval.ms },
    maxDownstreamConnectionDurationMs: config.max_downstream_connection_duration?.ms,
    maxDownstreamConnectionDurationJitterPercent: config.max_downstream_connection_duration_jitter_percentage?.value ?? 0,
    accessLoggers: createAccessLoggers(config.access_log, {
      defaultFormat: DEFAULT_HTTP_ACCESS_LOG_FORMAT,
      fileManager: context.accessLogFiles,
    }),
    flushAccessLogOnConnected: logOptions.flush_access_log_on_connected,
    accessLogFlushIntervalMs: logOptions.access_log_flush_interval?.ms,
    log: context.log('tcp'),
  };
}

/** What compileTcpProxy would refuse (access log formats, tunneling format strings), with paths under the TcpProxy config. */
export function validateTcpProxy(config: TcpProxy): ConfigFinding[] {
  const findings = validateAccessLogs(config.access_log, DEFAULT_HTTP_ACCESS_LOG_FORMAT);
  if (config.tunneling_config !== undefined) findings.push(...validateTunnelingConfig(config.tunneling_config));
  return findings;
}

/** The TcpProxy network filter factory (`envoy.filters.network.tcp_proxy`). */
export function tcpProxyFactory(options: TcpProxyFactoryOptions = {}): NetworkFilterFactory<TcpProxy> {
  return {
    typeUrl: TCP_PROXY_TYPE_URL,
    create(config, context) {
      const settings = compileTcpProxy(config, context, options);
      return (connection) => new TcpProxySession(settings, connection).start();
    },
    validate: validateTcpProxy,
  };
}
