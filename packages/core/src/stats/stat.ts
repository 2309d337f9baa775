/** Labels extracted from a stat name for Prometheus (Envoy's tag extraction). */
export type Tags = Readonly<Record<string, string>>;

/** What every stat knows about itself, for the admin interface and exporters. */
export interface StatInfo {
  /** Envoy's full name, e.g. `cluster.cluster_0.upstream_cx_total`. */
  readonly name: string;
  /** The name with tag values taken out, e.g. `cluster.upstream_cx_total`. */
  readonly tagExtractedName: string;
  readonly tags: Tags;
  /** Whether it was ever changed (`/stats?usedonly`). */
  readonly used: boolean;
}

/** A monotonically increasing count. */
export class Counter implements StatInfo {
  value = 0;
  used = false;
  constructor(
    readonly name: string,
    readonly tagExtractedName: string,
    readonly tags: Tags,
  ) {}

  inc(by = 1): void {
    this.value += by;
    this.used = true;
  }
}

/** A value that goes up and down (active connections, buffered bytes). */
export class Gauge implements StatInfo {
  value = 0;
  used = false;
  constructor(
    readonly name: string,
    readonly tagExtractedName: string,
    readonly tags: Tags,
  ) {}

  inc(by = 1): void {
    this.value += by;
    this.used = true;
  }

  dec(by = 1): void {
    this.value -= by;
    this.used = true;
  }

  set(value: number): void {
    this.value = value;
    this.used = true;
  }
}

export type HistogramUnit = 'milliseconds' | 'microseconds' | 'bytes' | 'unspecified';

/** Envoy's default histogram bucket bounds. */
export const DEFAULT_BUCKETS: readonly number[] = [
  0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000,
];

/** A distribution of recorded values, kept as cumulative-ready bucket counts plus a sum. */
export class Histogram implements StatInfo {
  readonly bucketCounts: number[];
  count = 0;
  sum = 0;
  used = false;
  constructor(
    readonly name: string,
    readonly tagExtractedName: string,
    readonly tags: Tags,
    readonly unit: HistogramUnit,
    readonly buckets: readonly number[] = DEFAULT_BUCKETS,
  ) {
    this.bucketCounts = new Array<number>(buckets.length + 1).fill(0);
  }

  record(value: number): void {
    const buckets = this.buckets;
    let i = 0;
    while (i < buckets.length && value > (buckets[i] as number)) i++;
    this.bucketCounts[i] = (this.bucketCounts[i] ?? 0) + 1;
    this.count++;
    this.sum += value;
    this.used = true;
  }

  /** Estimated quantile (0..1) by linear interpolation inside the bucket, as Envoy's summary does. */
  quantile(q: number): number | undefined {
    if (this.count === 0) return undefined;
    const rank = q * this.count;
    let seen = 0;
    for (let i = 0; i < this.bucketCounts.length; i++) {
      const inBucket = this.bucketCounts[i] ?? 0;
      if (inBucket > 0 && seen + inBucket >= rank) {
        const lower = i === 0 ? 0 : (this.buckets[i - 1] as number);
        const upper = this.buckets[i] ?? lower * 2;
        return lower + ((upper - lower) * (rank - seen)) / inBucket;
      }
      seen += inBucket;
    }
    return this.buckets[this.buckets.length - 1];
  }
}
