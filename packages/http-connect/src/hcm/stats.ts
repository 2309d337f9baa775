import type { Counter, Gauge, Histogram, Scope } from '@il/core';

const COUNTERS = [
  'downstream_cx_total',
  'downstream_cx_http1_total',
  'downstream_cx_http2_total',
  'downstream_cx_destroy',
  'downstream_cx_destroy_remote',
  'downstream_cx_destroy_local',
  'downstream_cx_destroy_active_rq',
  'downstream_cx_protocol_error',
  'downstream_cx_idle_timeout',
  'downstream_cx_max_duration_reached',
  'downstream_cx_max_requests_reached',
  'downstream_cx_drain_close',
  'downstream_cx_upgrades_total',
  'downstream_cx_rx_bytes_total',
  'downstream_cx_tx_bytes_total',
  'downstream_rq_total',
  'downstream_rq_http1_total',
  'downstream_rq_http2_total',
  'downstream_rq_1xx',
  'downstream_rq_2xx',
  'downstream_rq_3xx',
  'downstream_rq_4xx',
  'downstream_rq_5xx',
  'downstream_rq_completed',
  'downstream_rq_ws_on_non_ws_route',
  'downstream_rq_idle_timeout',
  'downstream_rq_timeout',
  'downstream_rq_header_timeout',
  'downstream_rq_too_large',
  'downstream_rq_rx_reset',
  'downstream_rq_tx_reset',
  'downstream_rq_non_relative_path',
  'downstream_rq_response_before_rq_complete',
  'downstream_flow_control_paused_reading_total',
  'downstream_flow_control_resumed_reading_total',
  // The router's stats live under the same prefix in Envoy (RouterStats).
  'no_route',
  'no_cluster',
  'rq_direct_response',
  'rq_redirect',
  'rq_total',
  'rq_reset_after_downstream_response_started',
] as const;

const GAUGES = [
  'downstream_cx_active',
  'downstream_cx_http1_active',
  'downstream_cx_http2_active',
  'downstream_cx_upgrades_active',
  'downstream_rq_active',
] as const;

export type HcmCounterName = (typeof COUNTERS)[number];
export type HcmGaugeName = (typeof GAUGES)[number];

/** The HTTP connection manager's stats under `http.<stat_prefix>.`, with Envoy's names. */
export class HcmStats {
  readonly counters: Readonly<Record<HcmCounterName, Counter>>;
  readonly gauges: Readonly<Record<HcmGaugeName, Gauge>>;
  readonly downstream_cx_length_ms: Histogram;
  readonly downstream_rq_time: Histogram;
  /** Downstream HTTP/2 codec stats are rooted at `http2.`, as Envoy's are (not under the prefix). */
  readonly http2_tx_stall_timeout: Counter;
  readonly http2_keepalive_timeout: Counter;
  readonly scope: Scope;

  constructor(root: Scope, statPrefix: string) {
    const scope = root.taggedScope('http', statPrefix, 'envoy_http_conn_manager_prefix');
    this.scope = scope;
    this.counters = scope.counters(COUNTERS);
    this.gauges = scope.gauges(GAUGES);
    this.downstream_cx_length_ms = scope.histogram('downstream_cx_length_ms');
    this.downstream_rq_time = scope.histogram('downstream_rq_time');
    this.http2_tx_stall_timeout = root.counter('http2.tx_stall_timeout');
    this.http2_keepalive_timeout = root.counter('http2.keepalive_timeout');
  }

  /** Counts a response code class as Envoy's chargeStats does. */
  chargeResponseCode(code: number): void {
    const c = this.counters;
    c.downstream_rq_completed.inc();
    if (code < 200) c.downstream_rq_1xx.inc();
    else if (code < 300) c.downstream_rq_2xx.inc();
    else if (code < 400) c.downstream_rq_3xx.inc();
    else if (code < 500) c.downstream_rq_4xx.inc();
    else if (code < 600) c.downstream_rq_5xx.inc();
  }
}
