/**
 * The process's application log: one pino logger per component (Envoy's logger ids), each with
 * its own level that `/logging` can change while running.
 *
 * Output is Envoy's text line by default, or JSON lines with `--log-format json`. Writes go
 * through an asynchronous destination (pino's sonic-boom) so that a log call never waits for the
 * disk or the terminal; `flushSync()` drains what is buffered, and runs on process exit.
 */
import { pino, type DestinationStream, type Logger } from 'pino';
import { fromPinoLevel, parseLogLevel, toPinoLevel, type EnvoyLogLevel } from './levels.js';
import { compileLogFormat, DEFAULT_LOG_FORMAT, type LogRecord } from './text-format.js';

/** A component's logger. */
export type Log = Logger;

/**
 * Envoy's logger ids that il has a use for. `tcp` is il's own (TcpProxy); Envoy files TcpProxy
 * logs under `filter`.
 */
export const COMPONENTS = [
  'admin',
  'config',
  'conn_handler',
  'connection',
  'filter',
  'http',
  'http2',
  'init',
  'main',
  'misc',
  'pool',
  'router',
  'runtime',
  'stats',
  'tcp',
  'upstream',
] as const;
export type Component = (typeof COMPONENTS)[number];

/** The special `--log-format` value that selects JSON lines instead of a text pattern. */
export const JSON_LOG_FORMAT = 'json';

export interface LoggingOptions {
  /** Every component's level to start with (`-l`); default `info`. */
  readonly level?: EnvoyLogLevel;
  /** Per-component overrides (`--component-log-level`), applied after `level`. */
  readonly componentLevels?: Readonly<Record<string, EnvoyLogLevel>>;
  /** An spdlog pattern, or `json`; default DEFAULT_LOG_FORMAT. */
  readonly format?: string;
  /** A file to append to (`--log-path`); default stderr, as Envoy. */
  readonly path?: string;
  /** Where lines go instead of stderr or `path` (tests, embedding). Written to as lines are logged. */
  readonly destination?: DestinationStream;
}

export interface Logging {
  /** The logger of a component; a name not in COMPONENTS is added to the registry. */
  logger(component: Component | (string & {})): Log;
  /** Every component's current level, by component name, sorted. */
  levels(): Record<string, EnvoyLogLevel>;
  /** Sets one component's level, or every one's with `all`. False if the component or the level is unknown. */
  setLevel(component: string, level: string): boolean;
  /** Writes out whatever is buffered, synchronously (on exit, before a crash report). */
  flushSync(): void;
  /** Reopens `path` (after log rotation); a no-op when writing to stderr or a given destination. */
  reopen(): void;
  /** Flushes, closes a log file, and stops flushing on process exit. */
  close(): void;
}

interface SonicBoomLike extends DestinationStream {
  flushSync(): void;
  reopen(file?: string): void;
  end(): void;
}

export function createLogging(options: LoggingOptions = {}): Logging {
  const format = options.format ?? DEFAULT_LOG_FORMAT;
  const json = format === JSON_LOG_FORMAT;
  const ownDestination: SonicBoomLike | undefined =
    options.destination === undefined
      ? pino.destination({ dest: options.path ?? 2, sync: false, mkdir: true, append: true })
      : undefined;
  const destination: DestinationStream = options.destination ?? (ownDestination as SonicBoomLike);
  const toText = json ? undefined : textLine(compileLogFormat(format));

  const root = pino(
    {
      // The root logger is never written to: it is the parent that carries the output settings.
      level: 'trace',
      base: json ? { pid: process.pid } : null,
      timestamp: json ? pino.stdTimeFunctions.isoTime : pino.stdTimeFunctions.epochTime,
      formatters: { level: (label) => ({ level: fromPinoLevel(label) }) },
      ...(toText === undefined ? {} : { hooks: { streamWrite: toText } }),
    },
    destination,
  );

  const startLevel = options.level ?? 'info';
  const loggers = new Map<string, Log>();
  const logger = (component: string): Log => {
    let log = loggers.get(component);
    if (log === undefined) {
      log = root.child({ component }, { level: toPinoLevel(options.componentLevels?.[component] ?? startLevel) });
      loggers.set(component, log);
    }
    return log;
  };
  for (const component of COMPONENTS) logger(component);
  for (const component of Object.keys(options.componentLevels ?? {})) logger(component);

  const flushSync = () => {
    if (ownDestination === undefined) return;
    try {
      ownDestination.flushSync();
    } catch {
      // sonic-boom refuses while a log file is still being opened: there is nothing written to flush yet.
    }
  };
  if (ownDestination !== undefined) process.on('exit', flushSync);

  return {
    logger,
    levels() {
      const out: Record<string, EnvoyLogLevel> = {};
      for (const name of [...loggers.keys()].sort()) {
        const log = loggers.get(name) as Log;
        out[name] = fromPinoLevel(log.level) as EnvoyLogLevel;
      }
      return out;
    },
    setLevel(component, levelText) {
      const level = parseLogLevel(levelText);
      if (level === undefined) return false;
      const targets = component === 'all' ? [...loggers.values()] : [loggers.get(component)];
      if (targets.some((log) => log === undefined)) return false;
      for (const log of targets) (log as Log).level = toPinoLevel(level);
      return true;
    },
    flushSync,
    reopen() {
      if (ownDestination !== undefined && options.path !== undefined) ownDestination.reopen();
    },
    close() {
      process.off('exit', flushSync);
      flushSync();
      if (ownDestination !== undefined && options.path !== undefined) ownDestination.end();
    },
  };
}

/** pino hands over each record as a JSON line; in text mode it is rewritten as the pattern says. */
function textLine(render: (record: LogRecord) => string): (json: string) => string {
  return (json) => {
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(json) as Record<string, unknown>;
    } catch {
      return json;
    }
    const { time, level, component, msg, ...rest } = parsed;
    return `${render({
      time: typeof time === 'number' ? time : Date.now(),
      level: typeof level === 'string' ? level : 'info',
      component: typeof component === 'string' ? component : '',
      msg: typeof msg === 'string' ? msg : '',
      extra: Object.keys(rest).length === 0 ? undefined : rest,
    })}\n`;
  };
}
