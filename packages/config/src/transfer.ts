import type { Bootstrap } from './api/bootstrap.js';
import { Duration } from './duration.js';

/** The tag a Duration travels under in `encodeBootstrap` text. */
const DURATION = '$il.duration.ms';

/**
 * A validated bootstrap as text, for handing it from the thread that validated it (and holds the
 * schemas) to one that only runs it. Durations keep their class across the trip.
 */
export function encodeBootstrap(bootstrap: Bootstrap): string {
  return JSON.stringify(bootstrap, function (this: Record<string, unknown>, key: string, value: unknown) {
    const original = this[key];
    return original instanceof Duration ? { [DURATION]: original.ms } : value;
  });
}

/** The inverse of encodeBootstrap: the same bootstrap, with Duration instances restored. */
export function decodeBootstrap(text: string): Bootstrap {
  return JSON.parse(text, (_key, value: unknown) => {
    if (value !== null && typeof value === 'object' && DURATION in value) {
      return new Duration((value as Record<string, number>)[DURATION] as number);
    }
    return value;
  }) as Bootstrap;
}
