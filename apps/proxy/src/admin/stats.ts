/**
 * `/stats` in Envoy's text and JSON formats (source/server/admin/stats_render.cc) and its query
 * parameters (stats_params.cc).
 *
 * il keeps cumulative histograms only (there is no stats flush, so no "interval"): the interval
 * half of each quantile pair is `nan` in text and `null` in JSON, as Envoy shows an interval
 * with no samples.
 */
import { compileRe2, type Re2 } from '@il/config/runtime';
import type { Counter, Gauge, Histogram, Store } from '@il/core';

export type StatsType = 'All' | 'Counters' | 'Gauges' | 'Histograms' | 'TextReadouts';
export type StatsFormat = 'text' | 'json' | 'prometheus';

export interface StatsParams {
  readonly usedOnly: boolean;
  /** Envoy's filter is an RE2 partial match on the stat name. */
  readonly filter: Re2 | undefined;
  readonly type: StatsType;
  readonly format: StatsFormat;
  readonly pretty: boolean;
}

const TYPES: readonly StatsType[] = ['All', 'Counters', 'Gauges', 'Histograms', 'TextReadouts'];

/** Parses `/stats` and `/stats/prometheus` query parameters; an error is the 400 body. */
export function parseStatsParams(query: URLSearchParams, defaultFormat: StatsFormat = 'text'): StatsParams | { error: string } {
  let filter: Re2 | undefined;
  const filterText = query.get('filter');
  if (filterText !== null && filterText !== '') {
    try {
      filter = compileRe2(filterText);
    } catch (error) {
      return { error: `Invalid regex: ${error instanceof Error ? error.message : String(error)}\n` };
    }
  }
  const typeText = query.get('type');
  if (typeText !== null && !(TYPES as readonly string[]).includes(typeText)) return { error: 'invalid &type= param\n' };
  const formatText = query.get('format') ?? defaultFormat;
  if (formatText !== 'text' && formatText !== 'json' && formatText !== 'prometheus') {
    return { error: 'usage: /stats?format=(json|prometheus|text)\n\n' };
  }
  return {
    usedOnly: query.has('usedonly'),
    filter,
    type: (typeText ?? 'All') as StatsType,
    format: formatText,
    pretty: query.has('pretty'),
  };
}

export function shows(stat: { name: string; used: boolean }, params: Pick<StatsParams, 'usedOnly' | 'filter'>): boolean {
  return (!params.usedOnly || stat.used) && (params.filter === undefined || params.filter.partialMatch(stat.name));
}

interface Selected {
  readonly numeric: readonly (Counter | Gauge)[];
  readonly histograms: readonly Histogram[];
}

function select(store: Store, params: StatsParams): Selected {
  const wants = (type: StatsType) => params.type === 'All' || params.type === type;
  const numeric: (Counter | Gauge)[] = [];
  if (wants('Counters')) numeric.push(...store.counters().filter((stat) => shows(stat, params)));
  if (wants('Gauges')) numeric.push(...store.gauges().filter((stat) => shows(stat, params)));
  numeric.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const histograms = wants('Histograms') ? store.histograms().filter((stat) => shows(stat, params)) : [];
  return { numeric, histograms };
}

/** Envoy's supported quantiles, and their labels as `{:g}` prints 100 × q. */
const QUANTILES: readonly (readonly [number, string])[] = [
  [0, '0'],
  [0.25, '25'],
  [0.5, '50'],
  [0.75, '75'],
  [0.9, '90'],
  [0.95, '95'],
  [0.99, '99'],
  [0.995, '99.5'],
  [0.999, '99.9'],
  [1, '100'],
];

function cumulativeQuantiles(histogram: Histogram): (number | undefined)[] {
  return QUANTILES.map(([q]) => histogram.quantile(q));
}

/** `P0(nan,1) P25(nan,1.025) ...`, or `No recorded values`. */
export function quantileSummary(histogram: Histogram): string {
  if (!histogram.used || histogram.count === 0) return 'No recorded values';
  const values = cumulativeQuantiles(histogram);
  return QUANTILES.map(([, label], i) => `P${label}(nan,${formatNumber(values[i])})`).join(' ');
}

/** A number as fmt's `{}` prints a double: shortest round-trip form, `nan`, `inf`. */
function formatNumber(value: number | undefined): string {
  if (value === undefined || Number.isNaN(value)) return 'nan';
  if (value === Infinity) return 'inf';
  if (value === -Infinity) return '-inf';
  return String(value);
}

export function renderStatsText(store: Store, params: StatsParams): string {
  const { numeric, histograms } = select(store, params);
  let out = '';
  for (const stat of numeric) out += `${stat.name}: ${stat.value}\n`;
  for (const histogram of histograms) out += `${histogram.name}: ${quantileSummary(histogram)}\n`;
  return out;
}

export function renderStatsJson(store: Store, params: StatsParams): string {
  const { numeric, histograms } = select(store, params);
  const stats: unknown[] = numeric.map((stat) => ({ name: stat.name, value: stat.value }));
  if (histograms.length > 0) {
    stats.push({
      histograms: {
        supported_quantiles: QUANTILES.map(([, label]) => Number(label)),
        computed_quantiles: histograms.map((histogram) => ({
          name: histogram.name,
          values: cumulativeQuantiles(histogram).map((cumulative) => ({ interval: null, cumulative: cumulative ?? null })),
        })),
      },
    });
  }
  return `${JSON.stringify({ stats }, null, params.pretty ? 2 : undefined)}\n`;
}
