import { Counter, Gauge, Histogram, type HistogramUnit, type Tags } from './stat.js';

/**
 * A naming scope: every stat created through it is named `<prefix><name>`. A scope may carry a
 * tag (Envoy's tag extraction): the tag's value is part of the full name but not of the
 * tag-extracted name, so `cluster.c1.upstream_cx_total` exports to Prometheus as
 * `envoy_cluster_upstream_cx_total{envoy_cluster_name="c1"}`.
 */
export class Scope {
  constructor(
    private readonly store: Store,
    /** Full-name prefix, ending in '.' unless empty. */
    readonly prefix: string,
    /** The same prefix with tag values removed. */
    readonly tagExtractedPrefix: string,
    readonly tags: Tags,
  ) {}

  counter(name: string): Counter {
    return this.store.counterFromParts(this.prefix + name, this.tagExtractedPrefix + name, this.tags);
  }

  gauge(name: string): Gauge {
    return this.store.gaugeFromParts(this.prefix + name, this.tagExtractedPrefix + name, this.tags);
  }

  histogram(name: string, unit: HistogramUnit = 'milliseconds'): Histogram {
    return this.store.histogramFromParts(this.prefix + name, this.tagExtractedPrefix + name, this.tags, unit);
  }

  /**
   * One counter per name, as a record typed by the names: the shape of Envoy's stats structs
   * (`ALL_CLUSTER_STATS(COUNTER, ...)`). `scope.counters(['a', 'b'] as const).a.inc()`.
   */
  counters<const N extends string>(names: readonly N[]): Readonly<Record<N, Counter>> {
    return Object.fromEntries(names.map((name) => [name, this.counter(name)])) as Record<N, Counter>;
  }

  /** One gauge per name, as a record typed by the names (see `counters`). */
  gauges<const N extends string>(names: readonly N[]): Readonly<Record<N, Gauge>> {
    return Object.fromEntries(names.map((name) => [name, this.gauge(name)])) as Record<N, Gauge>;
  }

  /** A child scope `<prefix><name>.`. */
  scope(name: string): Scope {
    return new Scope(this.store, `${this.prefix}${name}.`, `${this.tagExtractedPrefix}${name}.`, this.tags);
  }

  /**
   * A child scope `<prefix><segment>.<value>.` whose `value` is extracted as tag `tagName`:
   * `root.taggedScope('cluster', 'c1', 'envoy_cluster_name')`.
   */
  taggedScope(segment: string, value: string, tagName: string): Scope {
    return new Scope(
      this.store,
      `${this.prefix}${segment}.${value}.`,
      `${this.tagExtractedPrefix}${segment}.`,
      { ...this.tags, [tagName]: value },
    );
  }
}

/** All stats of a process, by full name. Creating a stat that exists returns the existing one. */
export class Store {
  readonly #counters = new Map<string, Counter>();
  readonly #gauges = new Map<string, Gauge>();
  readonly #histograms = new Map<string, Histogram>();
  readonly root: Scope = new Scope(this, '', '', {});

  counterFromParts(name: string, tagExtractedName: string, tags: Tags): Counter {
    let stat = this.#counters.get(name);
    if (stat === undefined) {
      stat = new Counter(name, tagExtractedName, tags);
      this.#counters.set(name, stat);
    }
    return stat;
  }

  gaugeFromParts(name: string, tagExtractedName: string, tags: Tags): Gauge {
    let stat = this.#gauges.get(name);
    if (stat === undefined) {
      stat = new Gauge(name, tagExtractedName, tags);
      this.#gauges.set(name, stat);
    }
    return stat;
  }

  histogramFromParts(name: string, tagExtractedName: string, tags: Tags, unit: HistogramUnit): Histogram {
    let stat = this.#histograms.get(name);
    if (stat === undefined) {
      stat = new Histogram(name, tagExtractedName, tags, unit);
      this.#histograms.set(name, stat);
    }
    return stat;
  }

  counters(): Counter[] {
    return sortedByName(this.#counters);
  }

  gauges(): Gauge[] {
    return sortedByName(this.#gauges);
  }

  histograms(): Histogram[] {
    return sortedByName(this.#histograms);
  }

  /** The current value of a counter or gauge by full name (undefined if it does not exist). */
  value(name: string): number | undefined {
    return this.#counters.get(name)?.value ?? this.#gauges.get(name)?.value;
  }
}

function sortedByName<T extends { name: string }>(map: Map<string, T>): T[] {
  return [...map.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
