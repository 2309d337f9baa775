/**
 * Envoy's `--log-format`: an spdlog pattern such as `[%Y-%m-%d %T.%e][%l][%n] %v`, compiled once
 * into a function that turns one log record into one line.
 *
 * Supported flags: %v (message) %j (message escaped for a JSON string, Envoy's own flag) %n
 * (component) %l (level) %L (level's first letter, upper case) %t (thread: the process id, il has
 * one event loop) %P (process id) %Y %y %m %d %H %M %S %e (ms) %f (us) %F (ns) %T (%H:%M:%S)
 * %D (%m/%d/%y) %R (%H:%M) %E (seconds since the epoch) %z (UTC offset) %%, with spdlog's
 * padding (`%-8l`, `%8n`, `%=10v`). Source-location flags (%g %# %s %@ %!) print nothing: Node
 * has no cheap file:line for a log call. Any other `%x` is printed as written.
 */

/** The il default: Envoy's default pattern without the thread id and source location. */
export const DEFAULT_LOG_FORMAT = '[%Y-%m-%d %T.%e][%l][%n] %v';

/** What a line is made of. `time` is milliseconds since the epoch; local time is printed, as spdlog does. */
export interface LogRecord {
  readonly time: number;
  readonly level: string;
  readonly component: string;
  readonly msg: string;
  /** Fields given to the log call besides the message, appended as JSON after it. */
  readonly extra: Readonly<Record<string, unknown>> | undefined;
}

type Part = (record: LogRecord, date: Date) => string;

const two = (n: number) => String(n).padStart(2, '0');
const three = (n: number) => String(n).padStart(3, '0');

function offset(date: Date): string {
  const minutes = -date.getTimezoneOffset();
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `${sign}${two(Math.floor(abs / 60))}:${two(abs % 60)}`;
}

function message(record: LogRecord): string {
  return record.extra === undefined ? record.msg : `${record.msg} ${JSON.stringify(record.extra)}`;
}

const FLAGS: Readonly<Record<string, Part>> = {
  v: (r) => message(r),
  j: (r) => JSON.stringify(message(r)).slice(1, -1),
  n: (r) => r.component,
  l: (r) => r.level,
  L: (r) => r.level.charAt(0).toUpperCase(),
  t: () => String(process.pid),
  P: () => String(process.pid),
  Y: (_, d) => String(d.getFullYear()),
  y: (_, d) => two(d.getFullYear() % 100),
  m: (_, d) => two(d.getMonth() + 1),
  d: (_, d) => two(d.getDate()),
  H: (_, d) => two(d.getHours()),
  M: (_, d) => two(d.getMinutes()),
  S: (_, d) => two(d.getSeconds()),
  e: (_, d) => three(d.getMilliseconds()),
  f: (_, d) => `${three(d.getMilliseconds())}000`,
  F: (_, d) => `${three(d.getMilliseconds())}000000`,
  T: (_, d) => `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`,
  D: (_, d) => `${two(d.getMonth() + 1)}/${two(d.getDate())}/${two(d.getFullYear() % 100)}`,
  R: (_, d) => `${two(d.getHours())}:${two(d.getMinutes())}`,
  E: (r) => String(Math.floor(r.time / 1000)),
  z: (_, d) => offset(d),
  g: () => '',
  '#': () => '',
  s: () => '',
  '@': () => '',
  '!': () => '',
};

function pad(part: Part, spec: string): Part {
  const align = spec[0] === '-' ? 'left' : spec[0] === '=' ? 'center' : 'right';
  const width = Number(align === 'right' ? spec : spec.slice(1));
  return (record, date) => {
    const text = part(record, date);
    if (text.length >= width) return text;
    const room = width - text.length;
    if (align === 'left') return text + ' '.repeat(room);
    if (align === 'right') return ' '.repeat(room) + text;
    const before = Math.floor(room / 2);
    return ' '.repeat(before) + text + ' '.repeat(room - before);
  };
}

/** Compiles a pattern; the result appends no newline. */
export function compileLogFormat(pattern: string): (record: LogRecord) => string {
  const parts: Part[] = [];
  const pattern_ = /%([-=]?\d+)?(.)|[^%]+|%$/gsu;
  for (const match of pattern.matchAll(pattern_)) {
    const [whole, spec, flag] = match;
    if (flag === undefined) {
      parts.push(() => whole);
      continue;
    }
    if (flag === '%') {
      parts.push(() => '%');
      continue;
    }
    const part = FLAGS[flag];
    if (part === undefined) {
      parts.push(() => whole);
      continue;
    }
    parts.push(spec === undefined ? part : pad(part, spec));
  }
  return (record) => {
    const date = new Date(record.time);
    let line = '';
    for (const part of parts) line += part(record, date);
    return line;
  };
}
