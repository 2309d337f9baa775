import type { Counter, Gauge, Histogram } from '../stats/stat.js';
import type { Scope } from '../stats/store.js';

/** A listener's stats under `listener.<stat_prefix>.` (Envoy's names). */
export class ListenerStats {
  readonly downstream_cx_total: Counter;
  readonly downstream_cx_destroy: Counter;
  readonly downstream_cx_active: Gauge;
  readonly downstream_cx_length_ms: Histogram;
  readonly no_filter_chain_match: Counter;
  /** Listener filters (tls_inspector) that gave up waiting for the first bytes. */
  readonly downstream_pre_cx_timeout: Counter;
  readonly downstream_cx_overflow: Counter;

  constructor(readonly scope: Scope) {
    this.downstream_cx_total = scope.counter('downstream_cx_total');
    this.downstream_cx_destroy = scope.counter('downstream_cx_destroy');
    this.downstream_cx_active = scope.gauge('downstream_cx_active');
    this.downstream_cx_length_ms = scope.histogram('downstream_cx_length_ms');
    this.no_filter_chain_match = scope.counter('no_filter_chain_match');
    this.downstream_pre_cx_timeout = scope.counter('downstream_pre_cx_timeout');
    this.downstream_cx_overflow = scope.counter('downstream_cx_overflow');
  }
}
