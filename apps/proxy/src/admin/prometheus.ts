/**
 * `/stats/prometheus`: the Prometheus text exposition format 0.0.4, with Envoy's metric names
 * (source/server/admin/prometheus_stats.cc): `envoy_` + the tag-extracted name with every
 * character outside [a-zA-Z0-9_] replaced by `_` (Envoy's rule: `:` too), tags as labels.
 *
 * Families are grouped by their sanitized name, so one `# TYPE` line heads each, counters
 * first, then gauges, then histograms, each sorted by name and each family's samples by full
 * stat name. Histograms are cumulative `_bucket{le=...}` lines at the store's bucket bounds,
 * then `+Inf`, `_sum` and `_count`.
 */
import type { Counter, Gauge, Histogram, Store, Tags } from '@il/core';
import { shows, type StatsParams } from './stats.js';

/** The content type of the 0.0.4 text format. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export function sanitizeName(name: string): string {
  return name.replace(/[^a-zA-Z0-9_]/g, '_');
}

export function metricName(tagExtractedName: string): string {
  return `envoy_${sanitizeName(tagExtractedName)}`;
}

function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function labels(tags: Tags, extra?: string): string {
  const parts = Object.entries(tags).map(([name, value]) => `${sanitizeName(name)}="${escapeLabelValue(value)}"`);
  if (extra !== undefined) parts.push(extra);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

function sampleValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

function families<T extends Counter | Gauge | Histogram>(stats: readonly T[], params: Pick<StatsParams, 'usedOnly' | 'filter'>): [string, T[]][] {
  const groups = new Map<string, T[]>();
  for (const stat of stats) {
    if (!shows(stat, params)) continue;
    const name = metricName(stat.tagExtractedName);
    let group = groups.get(name);
    if (group === undefined) {
      group = [];
      groups.set(name, group);
    }
    group.push(stat);
  }
  const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  return [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([name, group]) => [name, group.sort(byName)]);
}

export function renderPrometheus(store: Store, params: Pick<StatsParams, 'usedOnly' | 'filter'>): string {
  let out = '';
  const numeric = (type: string, stats: readonly (Counter | Gauge)[]) => {
    for (const [name, group] of families(stats, params)) {
      out += `# TYPE ${name} ${type}\n`;
      for (const stat of group) out += `${name}${labels(stat.tags)} ${sampleValue(stat.value)}\n`;
      out += '\n';
    }
  };
  numeric('counter', store.counters());
  numeric('gauge', store.gauges());
  for (const [name, group] of families(store.histograms(), params)) {
    out += `# TYPE ${name} histogram\n`;
    for (const histogram of group) {
      let cumulative = 0;
      histogram.buckets.forEach((bound, i) => {
        cumulative += histogram.bucketCounts[i] ?? 0;
        out += `${name}_bucket${labels(histogram.tags, `le="${sampleValue(bound)}"`)} ${cumulative}\n`;
      });
      out += `${name}_bucket${labels(histogram.tags, 'le="+Inf"')} ${histogram.count}\n`;
      out += `${name}_sum${labels(histogram.tags)} ${sampleValue(histogram.sum)}\n`;
      out += `${name}_count${labels(histogram.tags)} ${histogram.count}\n`;
    }
    out += '\n';
  }
  return out;
}
