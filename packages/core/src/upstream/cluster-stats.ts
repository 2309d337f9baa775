import type { Counter, Gauge, Histogram } from '../stats/stat.js';
import type { Scope } from '../stats/store.js';

const COUNTERS = [
  'upstream_cx_total',
  'upstream_cx_http1_total',
  'upstream_cx_http2_total',
  'upstream_cx_connect_fail',
  'upstream_cx_connect_timeout',
  'upstream_cx_connect_attempts_exceeded',
  'upstream_cx_overflow',
  'upstream_cx_none_healthy',
  'upstream_cx_destroy',
  'upstream_cx_destroy_local',
  'upstream_cx_destroy_remote',
  'upstream_cx_destroy_with_active_rq',
  'upstream_cx_rx_bytes_total',
  'upstream_cx_tx_bytes_total',
  'upstream_cx_protocol_error',
  'upstream_flow_control_paused_reading_total',
  'upstream_flow_control_resumed_reading_total',
  'upstream_rq_total',
  'upstream_rq_completed',
  'upstream_rq_pending_total',
  'upstream_rq_pending_overflow',
  'upstream_rq_pending_failure_eject',
  'upstream_rq_cancelled',
  'upstream_rq_timeout',
  'upstream_rq_per_try_timeout',
  'upstream_rq_rx_reset',
  'upstream_rq_tx_reset',
  'upstream_rq_retry',
  'upstream_rq_max_duration_reached',
  'upstream_rq_1xx',
  'upstream_rq_2xx',
  'upstream_rq_3xx',
  'upstream_rq_4xx',
  'upstream_rq_5xx',
  'membership_change',
  'update_attempt',
  'update_success',
  'update_failure',
  'update_empty',
  'internal_upstream.no_metadata',
] as const;

const GAUGES = [
  'upstream_cx_active',
  'upstream_cx_rx_bytes_buffered',
  'upstream_cx_tx_bytes_buffered',
  'upstream_rq_active',
  'upstream_rq_pending_active',
  'membership_total',
  'membership_healthy',
  'membership_degraded',
  'circuit_breakers.default.cx_open',
  'circuit_breakers.default.cx_pool_open',
  'circuit_breakers.default.rq_pending_open',
  'circuit_breakers.default.rq_open',
  'circuit_breakers.default.rq_retry_open',
] as const;

export type ClusterCounterName = (typeof COUNTERS)[number];
export type ClusterGaugeName = (typeof GAUGES)[number];

/** A cluster's stats under `cluster.<name>.`, with Envoy's names (envoy-behavior.md §6). */
export class ClusterStats {
  readonly counters: Readonly<Record<ClusterCounterName, Counter>>;
  readonly gauges: Readonly<Record<ClusterGaugeName, Gauge>>;
  readonly upstream_cx_connect_ms: Histogram;
  readonly upstream_cx_length_ms: Histogram;
  readonly upstream_rq_time: Histogram;
  readonly scope: Scope;

  constructor(scope: Scope) {
    this.scope = scope;
    this.counters = scope.counters(COUNTERS);
    this.gauges = scope.gauges(GAUGES);
    this.upstream_cx_connect_ms = scope.histogram('upstream_cx_connect_ms');
    this.upstream_cx_length_ms = scope.histogram('upstream_cx_length_ms');
    this.upstream_rq_time = scope.histogram('upstream_rq_time');
  }

  /** A counter for a response code, e.g. `upstream_rq_200`, created on first use as in Envoy. */
  responseCode(code: number): Counter {
    return this.scope.counter(`upstream_rq_${code}`);
  }
}
