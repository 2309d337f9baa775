/**
 * A google.protobuf.Duration as the runtime sees it: a non-negative number of milliseconds.
 * Config text spells durations the proto-JSON way ("5s", "0.25s"); `toJSON()` writes them back
 * the way Envoy's /config_dump does ("5s", "0.250s").
 */
export class Duration {
  /** Milliseconds; fractional below 1 ms when the config asked for microseconds or nanoseconds. */
  readonly ms: number;

  constructor(ms: number) {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`a Duration needs a finite, non-negative number of milliseconds, got ${ms}`);
    this.ms = ms;
  }

  static seconds(seconds: number): Duration {
    return new Duration(seconds * 1000);
  }

  /** Envoy's JSON form: whole seconds, or 3, 6 or 9 fractional digits ("0.250s"). */
  toJSON(): string {
    const totalNanos = Math.round(this.ms * 1e6);
    const seconds = Math.floor(totalNanos / 1e9);
    const nanos = totalNanos - seconds * 1e9;
    if (nanos === 0) return `${seconds}s`;
    let digits = String(nanos).padStart(9, '0');
    if (digits.endsWith('000000')) digits = digits.slice(0, 3);
    else if (digits.endsWith('000')) digits = digits.slice(0, 6);
    return `${seconds}.${digits}s`;
  }

  toString(): string {
    return this.toJSON();
  }
}

/** The largest duration protobuf allows: 10,000 years. */
const MAX_SECONDS = 315_576_000_000;

const DURATION_TEXT = /^(-?)(\d+)(?:\.(\d{1,9}))?s$/;

/** Parses proto-JSON duration text. Returns an error message instead of throwing. */
export function parseDurationText(text: string): Duration | string {
  const match = DURATION_TEXT.exec(text.trim());
  if (!match) return `invalid duration "${text}": expected seconds with an "s" suffix, e.g. "5s" or "0.25s"`;
  const [, sign = '', whole = '0', fraction = ''] = match;
  if (sign === '-') return `duration must not be negative, got "${text}"`;
  return fromParts(Number(whole), Number(fraction.padEnd(9, '0')), text);
}

/** Parses the proto object form `{seconds, nanos}`. */
export function durationFromParts(seconds: number, nanos: number): Duration | string {
  const text = `{seconds: ${seconds}, nanos: ${nanos}}`;
  if (seconds < 0 || nanos < 0) return `duration must not be negative, got ${text}`;
  if (nanos > 999_999_999) return `duration nanos must be at most 999999999, got ${nanos}`;
  return fromParts(seconds, nanos, text);
}

function fromParts(seconds: number, nanos: number, text: string): Duration | string {
  if (seconds > MAX_SECONDS) return `duration is too large: ${text}`;
  return new Duration(seconds * 1000 + nanos / 1e6);
}
