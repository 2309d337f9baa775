/** Filter-state keys TcpProxy reads (Envoy's tcp_proxy.h / upstream.h). */
export const FilterStateKeys = {
  /** A string: the cluster to use instead of the configured one. */
  cluster: 'envoy.tcp_proxy.cluster',
  /** A boolean: plain TCP even when tunneling_config is set. */
  disableTunneling: 'envoy.tcp_proxy.disable_tunneling',
  /** An integer (or integer string) of milliseconds: overrides idle_timeout for this connection. */
  perConnectionIdleTimeoutMs: 'envoy.tcp_proxy.per_connection_idle_timeout_ms',
  /** Where the tunnel's response headers and trailers are stored when propagated. */
  propagateResponseHeaders: 'envoy.tcp_proxy.propagate_response_headers',
  propagateResponseTrailers: 'envoy.tcp_proxy.propagate_response_trailers',
} as const;
