/** The effective config in Envoy's JSON form, as /config_dump shows it. */
import type { Bootstrap } from './api/bootstrap.js';
import { Duration } from './duration.js';

/**
 * The bootstrap with every default filled in, as plain JSON: snake_case fields, durations as
 * "5s"/"0.250s", typed configs with their "@type". Loading the result gives the same Bootstrap.
 */
export function dump(bootstrap: Bootstrap): unknown {
  return toJson(bootstrap);
}

function toJson(value: unknown): unknown {
  if (value instanceof Duration) return value.toJSON();
  if (Array.isArray(value)) return value.map(toJson);
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) if (item !== undefined) out[key] = toJson(item);
    return out;
  }
  return value;
}
