import { FormatError } from './format-error.js';

/** Renders one point in time; compiled once per `%START_TIME(...)%`, called per log line. */
export type TimeRenderer = (date: Date) => string;

/** Reads calendar fields in UTC or in the process's local time zone. */
interface Calendar {
  year(date: Date): number;
  /** 0-11. */
  month(date: Date): number;
  day(date: Date): number;
  hours(date: Date): number;
  minutes(date: Date): number;
  seconds(date: Date): number;
  /** 0 (Sunday) - 6. */
  weekday(date: Date): number;
  /** Minutes east of UTC. */
  offsetMinutes(date: Date): number;
  zoneName(date: Date): string;
}

const UTC: Calendar = {
  year: (d) => d.getUTCFullYear(),
  month: (d) => d.getUTCMonth(),
  day: (d) => d.getUTCDate(),
  hours: (d) => d.getUTCHours(),
  minutes: (d) => d.getUTCMinutes(),
  seconds: (d) => d.getUTCSeconds(),
  weekday: (d) => d.getUTCDay(),
  offsetMinutes: () => 0,
  zoneName: () => 'UTC',
};

const LOCAL: Calendar = {
  year: (d) => d.getFullYear(),
  month: (d) => d.getMonth(),
  day: (d) => d.getDate(),
  hours: (d) => d.getHours(),
  minutes: (d) => d.getMinutes(),
  seconds: (d) => d.getSeconds(),
  weekday: (d) => d.getDay(),
  offsetMinutes: (d) => -d.getTimezoneOffset(),
  zoneName: (d) => localZoneFormat().formatToParts(d).find((part) => part.type === 'timeZoneName')?.value ?? '',
};

let zoneFormat: Intl.DateTimeFormat | undefined;
function localZoneFormat(): Intl.DateTimeFormat {
  zoneFormat ??= new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' });
  return zoneFormat;
}

const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'] as const;
const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
] as const;

const pad2 = (n: number): string => (n < 10 ? `0${n}` : String(n));
const pad3 = (n: number): string => (n < 10 ? `00${n}` : n < 100 ? `0${n}` : String(n));

/** Fractional seconds to `digits` places, truncated as Envoy does; Date has millisecond precision. */
function fraction(date: Date, digits: number): string {
  const ms = ((date.getTime() % 1000) + 1000) % 1000;
  return `${pad3(ms)}000000`.slice(0, digits);
}

function offset(minutes: number, colon: boolean): string {
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `${sign}${pad2(Math.floor(abs / 60))}${colon ? ':' : ''}${pad2(abs % 60)}`;
}

function dayOfYear(calendar: Calendar, date: Date): number {
  const year = calendar.year(date);
  return (Date.UTC(year, calendar.month(date), calendar.day(date)) - Date.UTC(year, 0, 1)) / 86_400_000 + 1;
}

/** strftime conversions (plus Envoy's `%s`), by letter. */
function conversions(c: Calendar): Record<string, TimeRenderer> {
  const table: Record<string, TimeRenderer> = {
    Y: (d) => String(c.year(d)),
    y: (d) => pad2(c.year(d) % 100),
    C: (d) => pad2(Math.floor(c.year(d) / 100)),
    m: (d) => pad2(c.month(d) + 1),
    d: (d) => pad2(c.day(d)),
    e: (d) => String(c.day(d)).padStart(2, ' '),
    H: (d) => pad2(c.hours(d)),
    I: (d) => pad2(c.hours(d) % 12 === 0 ? 12 : c.hours(d) % 12),
    M: (d) => pad2(c.minutes(d)),
    S: (d) => pad2(c.seconds(d)),
    p: (d) => (c.hours(d) < 12 ? 'AM' : 'PM'),
    j: (d) => pad3(dayOfYear(c, d)),
    a: (d) => WEEKDAYS[c.weekday(d)]?.slice(0, 3) ?? '',
    A: (d) => WEEKDAYS[c.weekday(d)] ?? '',
    b: (d) => MONTHS[c.month(d)]?.slice(0, 3) ?? '',
    B: (d) => MONTHS[c.month(d)] ?? '',
    u: (d) => String(c.weekday(d) === 0 ? 7 : c.weekday(d)),
    w: (d) => String(c.weekday(d)),
    z: (d) => offset(c.offsetMinutes(d), false),
    Z: (d) => c.zoneName(d),
    s: (d) => String(Math.floor(d.getTime() / 1000)),
    f: (d) => fraction(d, 9),
    t: () => '\t',
  };
  table.h = table.b as TimeRenderer;
  table.T = (d) => `${pad2(c.hours(d))}:${pad2(c.minutes(d))}:${pad2(c.seconds(d))}`;
  table.R = (d) => `${pad2(c.hours(d))}:${pad2(c.minutes(d))}`;
  table.F = (d) => `${c.year(d)}-${pad2(c.month(d) + 1)}-${pad2(c.day(d))}`;
  table.D = (d) => `${pad2(c.month(d) + 1)}/${pad2(c.day(d))}/${pad2(c.year(d) % 100)}`;
  return table;
}

const UTC_CONVERSIONS = conversions(UTC);
const LOCAL_CONVERSIONS = conversions(LOCAL);

/** Envoy refuses a time format that would print a newline (the result may end up in a header). */
const NEWLINE_CONVERSION = /%[-_0^#]*[1-9]*(E|O)?n/;

/**
 * Compiles a `START_TIME` format: strftime conversions, `%s` (epoch seconds), `%f` / `%1f`-`%9f`
 * (fractional seconds, 9 digits by default), absl's `%E<n>S` / `%E*S` / `%Ez`. An empty format is
 * Envoy's default: ISO 8601 with milliseconds (`2024-01-02T03:04:05.678Z` in UTC,
 * `2024-01-02T04:04:05.678+0100` in local time). Unknown conversions print as written, as
 * strftime does.
 */
export function compileTimeFormat(format: string, local: boolean): TimeRenderer {
  if (format === '') {
    return local ? compileTimeFormat('%Y-%m-%dT%H:%M:%E3S%z', true) : (date) => date.toISOString();
  }
  if (NEWLINE_CONVERSION.test(format)) {
    throw new FormatError('Invalid header configuration. Format string contains newline.');
  }
  const table = local ? LOCAL_CONVERSIONS : UTC_CONVERSIONS;
  const calendar = local ? LOCAL : UTC;
  const pieces: Array<string | TimeRenderer> = [];
  let literal = '';
  const push = (renderer: TimeRenderer): void => {
    if (literal !== '') pieces.push(literal);
    literal = '';
    pieces.push(renderer);
  };

  for (let i = 0; i < format.length; i++) {
    const char = format[i] as string;
    if (char !== '%' || i + 1 >= format.length) {
      literal += char;
      continue;
    }
    const next = format[i + 1] as string;
    if (next === '%') {
      literal += '%';
      i += 1;
      continue;
    }
    // %1f .. %9f
    if (next >= '1' && next <= '9' && format[i + 2] === 'f') {
      const digits = Number(next);
      push((d) => fraction(d, digits));
      i += 2;
      continue;
    }
    // absl: %E<n>S, %E*S, %Ez
    if (next === 'E') {
      const spec = /^E(\d+|\*)S|^Ez/.exec(format.slice(i + 1));
      if (spec !== null) {
        const precision = spec[1];
        if (precision === undefined) {
          push((d) => offset(calendar.offsetMinutes(d), true));
        } else if (precision === '*') {
          push((d) => {
            let ms = fraction(d, 3);
            while (ms.endsWith('0')) ms = ms.slice(0, -1);
            return ms === '' ? pad2(calendar.seconds(d)) : `${pad2(calendar.seconds(d))}.${ms}`;
          });
        } else {
          const digits = Math.min(Number(precision), 9);
          push((d) => (digits === 0 ? pad2(calendar.seconds(d)) : `${pad2(calendar.seconds(d))}.${fraction(d, digits)}`));
        }
        i += spec[0].length;
        continue;
      }
    }
    const renderer = table[next];
    if (renderer === undefined) {
      literal += `%${next}`;
    } else {
      push(renderer);
    }
    i += 1;
  }
  if (literal !== '') pieces.push(literal);

  if (pieces.length === 1 && typeof pieces[0] === 'function') return pieces[0];
  return (date) => {
    let out = '';
    for (const piece of pieces) out += typeof piece === 'string' ? piece : piece(date);
    return out;
  };
}
