/** Envoy's (spdlog's) log level names, and how they map onto pino's. */
import type { LevelWithSilent } from 'pino';

/** The names Envoy prints and accepts (`-l`, `--component-log-level`, `/logging`). */
export type EnvoyLogLevel = 'trace' | 'debug' | 'info' | 'warning' | 'error' | 'critical' | 'off';

/** In Envoy's order, most verbose first: this is the order `--help` and `/logging` list them in. */
export const LOG_LEVELS: readonly EnvoyLogLevel[] = ['trace', 'debug', 'info', 'warning', 'error', 'critical', 'off'];

const TO_PINO: Readonly<Record<EnvoyLogLevel, LevelWithSilent>> = {
  trace: 'trace',
  debug: 'debug',
  info: 'info',
  warning: 'warn',
  error: 'error',
  critical: 'fatal',
  off: 'silent',
};

const FROM_PINO: Readonly<Record<string, EnvoyLogLevel>> = {
  trace: 'trace',
  debug: 'debug',
  info: 'info',
  warn: 'warning',
  error: 'error',
  fatal: 'critical',
  silent: 'off',
};

/** A level name as a user typed it; `warn` is accepted for `warning`, as Envoy does. Undefined if unknown. */
export function parseLogLevel(text: string): EnvoyLogLevel | undefined {
  if (text === 'warn') return 'warning';
  return (LOG_LEVELS as readonly string[]).includes(text) ? (text as EnvoyLogLevel) : undefined;
}

export function toPinoLevel(level: EnvoyLogLevel): LevelWithSilent {
  return TO_PINO[level];
}

/** pino's label (`warn`, `fatal`, ...) as Envoy's name; unknown labels pass through. */
export function fromPinoLevel(label: string): string {
  return FROM_PINO[label] ?? label;
}
