import type { Counter, Gauge, Scope } from '@il/core';

/** TcpProxy's stats under `tcp.<stat_prefix>.` (Envoy's ALL_TCP_PROXY_STATS). */
export class TcpProxyStats {
  readonly downstream_cx_total: Counter;
  readonly downstream_cx_no_route: Counter;
  readonly downstream_cx_tx_bytes_total: Counter;
  readonly downstream_cx_rx_bytes_total: Counter;
  readonly downstream_flow_control_paused_reading_total: Counter;
  readonly downstream_flow_control_resumed_reading_total: Counter;
  readonly early_data_received_count_total: Counter;
  readonly idle_timeout: Counter;
  readonly max_downstream_connection_duration: Counter;
  readonly upstream_flush_total: Counter;
  readonly downstream_cx_tx_bytes_buffered: Gauge;
  readonly downstream_cx_rx_bytes_buffered: Gauge;
  readonly upstream_flush_active: Gauge;

  constructor(root: Scope, statPrefix: string) {
    const scope = root.taggedScope('tcp', statPrefix, 'envoy_tcp_prefix');
    this.downstream_cx_total = scope.counter('downstream_cx_total');
    this.downstream_cx_no_route = scope.counter('downstream_cx_no_route');
    this.downstream_cx_tx_bytes_total = scope.counter('downstream_cx_tx_bytes_total');
    this.downstream_cx_rx_bytes_total = scope.counter('downstream_cx_rx_bytes_total');
    this.downstream_flow_control_paused_reading_total = scope.counter('downstream_flow_control_paused_reading_total');
    this.downstream_flow_control_resumed_reading_total = scope.counter('downstream_flow_control_resumed_reading_total');
    this.early_data_received_count_total = scope.counter('early_data_received_count_total');
    this.idle_timeout = scope.counter('idle_timeout');
    this.max_downstream_connection_duration = scope.counter('max_downstream_connection_duration');
    this.upstream_flush_total = scope.counter('upstream_flush_total');
    this.downstream_cx_tx_bytes_buffered = scope.gauge('downstream_cx_tx_bytes_buffered');
    this.downstream_cx_rx_bytes_buffered = scope.gauge('downstream_cx_rx_bytes_buffered');
    this.upstream_flush_active = scope.gauge('upstream_flush_active');
  }
}
