// The stats store as the admin interface and Prometheus export see it: Envoy's full names,
// tag-extracted names and tags, one stat per name, and histogram quantiles.
import { describe, expect, it } from 'vitest';
import { Store } from '../src/index.js';

describe('Store and Scope', () => {
  it("names stats as Envoy does and extracts the cluster's name as a tag", () => {
    const store = new Store();
    const cluster = store.root.taggedScope('cluster', 'backend_1', 'envoy_cluster_name');
    const gauge = cluster.scope('circuit_breakers').scope('default').gauge('cx_open');
    expect(gauge.name).toBe('cluster.backend_1.circuit_breakers.default.cx_open');
    expect(gauge.tagExtractedName).toBe('cluster.circuit_breakers.default.cx_open');
    expect(gauge.tags).toEqual({ envoy_cluster_name: 'backend_1' });
  });

  it('returns the existing stat for a name, so two owners count into one', () => {
    const store = new Store();
    store.root.scope('tcp').counter('downstream_cx_total').inc();
    store.root.scope('tcp').counter('downstream_cx_total').inc(2);
    expect(store.value('tcp.downstream_cx_total')).toBe(3);
    expect(store.counters().map((c) => c.name)).toEqual(['tcp.downstream_cx_total']);
  });

  it('builds a stats struct from a list of names: every name is a stat, unused until written', () => {
    const store = new Store();
    const scope = store.root.taggedScope('http', 'ingress', 'envoy_http_conn_manager_prefix');
    const counters = scope.counters(['downstream_rq_total', 'downstream_rq_2xx'] as const);
    const gauges = scope.gauges(['downstream_rq_active'] as const);
    counters.downstream_rq_total.inc();
    gauges.downstream_rq_active.inc();
    gauges.downstream_rq_active.dec();
    expect(store.counters().map((c) => [c.name, c.value, c.used])).toEqual([
      ['http.ingress.downstream_rq_2xx', 0, false],
      ['http.ingress.downstream_rq_total', 1, true],
    ]);
    expect(store.gauges().map((g) => [g.tagExtractedName, g.value, g.used])).toEqual([['http.downstream_rq_active', 0, true]]);
  });

  it("estimates a histogram's quantiles inside Envoy's default buckets", () => {
    const histogram = new Store().root.histogram('upstream_rq_time');
    expect(histogram.quantile(0.5)).toBeUndefined();
    for (let i = 0; i < 100; i++) histogram.record(i < 90 ? 3 : 200);
    // 90 values in (1, 5], 10 in (100, 250]: p50 interpolates inside the first, p99 the second.
    const p50 = histogram.quantile(0.5) ?? Number.NaN;
    const p99 = histogram.quantile(0.99) ?? Number.NaN;
    expect(p50).toBeGreaterThan(1);
    expect(p50).toBeLessThanOrEqual(5);
    expect(p99).toBeGreaterThan(100);
    expect(p99).toBeLessThanOrEqual(250);
    expect(histogram.count).toBe(100);
    expect(histogram.sum).toBe(90 * 3 + 10 * 200);
  });
});
