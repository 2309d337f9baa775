import { createRequire } from 'node:module';

/** One sample as parse-prometheus-text-format returns it. */
export interface PromSample {
  value?: string;
  labels?: Record<string, string>;
  buckets?: Record<string, string>;
  count?: string;
  sum?: string;
}
export interface PromFamily {
  name: string;
  help: string;
  type: string;
  metrics: PromSample[];
}

/** A real Prometheus text-format parser (a CommonJS package without types), to check /stats/prometheus. */
export const parsePrometheus = createRequire(import.meta.url)('parse-prometheus-text-format') as (text: string) => PromFamily[];
