/**
 * il-proxy's command line: Envoy's flags, spellings, defaults and error texts where Envoy has
 * them (source/server/options_impl.cc), parsed strictly by node:util's parseArgs.
 */
import { parseArgs as parseNodeArgs } from 'node:util';
import { COMPONENTS } from '../logging/logging.js';
import { LOG_LEVELS, parseLogLevel, type EnvoyLogLevel } from '../logging/levels.js';
import { DEFAULT_LOG_FORMAT } from '../logging/text-format.js';
import { formatVersion } from './version.js';

export type Mode = 'serve' | 'validate';
export type DrainStrategy = 'gradual' | 'immediate';

export interface CliOptions {
  /** `-c/--config-path`. */
  readonly configPath?: string;
  /** `--config-yaml`, merged over the file's contents. */
  readonly configYaml?: string;
  /** `--allow-unknown-static-fields` (or the deprecated `--allow-unknown-fields`). */
  readonly allowUnknownStaticFields: boolean;
  readonly mode: Mode;
  /** `-l/--log-level`, with `warn` normalized to `warning`. */
  readonly logLevel: EnvoyLogLevel;
  /** `--component-log-level upstream:debug,config:trace`. */
  readonly componentLogLevels: Readonly<Record<string, EnvoyLogLevel>>;
  /** An spdlog pattern, or `json` (see logging/). */
  readonly logFormat: string;
  /** Whether `--log-format` was given (Envoy refuses it together with the bootstrap's log format). */
  readonly logFormatSet: boolean;
  readonly logPath?: string;
  /** `--admin-address-path`: where the admin writes the address it bound. */
  readonly adminAddressPath?: string;
  readonly drainTimeSeconds: number;
  readonly parentShutdownTimeSeconds: number;
  readonly drainStrategy: DrainStrategy;
  /** Accepted for compatibility: il has no hot restart, so nothing shares a base id. */
  readonly baseId: number;
  /** Accepted for compatibility: il runs one event loop whatever this says. */
  readonly concurrency: number;
  readonly serviceCluster?: string;
  readonly serviceNode?: string;
  readonly serviceZone?: string;
}

/**
 * What main does with a parse: serve or validate with `options` (after logging each warning), or
 * print `message` (to stdout when `exitCode` is 0: --help, --version; else to stderr) and exit.
 */
export type ParseResult =
  | { readonly ok: true; readonly options: CliOptions; readonly warnings: readonly string[] }
  | { readonly ok: false; readonly message: string; readonly exitCode: number };

interface FlagSpec {
  readonly name: string;
  readonly short?: string;
  readonly type: 'string' | 'boolean';
  /** The value's placeholder in the help text. */
  readonly value?: string;
  readonly help: string;
}

const FLAGS: readonly FlagSpec[] = [
  { name: 'config-path', short: 'c', type: 'string', value: 'path', help: 'Path to the configuration file (YAML; JSON when it ends in .json)' },
  { name: 'config-yaml', type: 'string', value: 'yaml', help: 'Inline YAML configuration, merged over the contents of --config-path' },
  {
    name: 'mode',
    type: 'string',
    value: 'mode',
    help: "One of 'serve' (default; validate the config and then serve traffic) or 'validate' (validate the config and exit)",
  },
  { name: 'allow-unknown-static-fields', type: 'boolean', help: 'Allow unknown fields in the static configuration (each becomes a warning)' },
  { name: 'allow-unknown-fields', type: 'boolean', help: 'Deprecated spelling of --allow-unknown-static-fields' },
  {
    name: 'log-level',
    short: 'l',
    type: 'string',
    value: 'level',
    help: `Log levels: ${LOG_LEVELS.map((level) => `[${level}]`).join('')} ([warn] is accepted for [warning])\nDefault is [info]`,
  },
  {
    name: 'component-log-level',
    type: 'string',
    value: 'list',
    help: `Comma separated list of component log levels. For example upstream:debug,config:trace\nComponents: ${COMPONENTS.join(', ')}`,
  },
  {
    name: 'log-format',
    type: 'string',
    value: 'format',
    help: `Log line format in spdlog syntax (%Y %m %d %T %e %l %n %v ...), or 'json' for JSON lines\nDefault is "${DEFAULT_LOG_FORMAT}"`,
  },
  { name: 'log-path', type: 'string', value: 'path', help: 'Path to the log file (default: stderr)' },
  { name: 'admin-address-path', type: 'string', value: 'path', help: 'Write the address the admin interface bound to this file' },
  { name: 'drain-time-s', type: 'string', value: 'seconds', help: 'Drain time in seconds, on shutdown and on /drain_listeners?graceful\nDefault is 600' },
  { name: 'drain-strategy', type: 'string', value: 'strategy', help: "Drain sequence behaviour, one of 'gradual' (default) or 'immediate'" },
  {
    name: 'parent-shutdown-time-s',
    type: 'string',
    value: 'seconds',
    help: 'Hot restart parent shutdown time in seconds (accepted for compatibility: il has no hot restart)\nDefault is 900',
  },
  { name: 'base-id', type: 'string', value: 'uint32', help: 'Base ID of hot restart domains (accepted for compatibility: il has no hot restart)' },
  { name: 'concurrency', type: 'string', value: 'uint32', help: '# of worker threads (accepted for compatibility: il runs one event loop)' },
  { name: 'service-cluster', type: 'string', value: 'name', help: 'Local cluster name (node.cluster)' },
  { name: 'service-node', type: 'string', value: 'name', help: 'Local node name (node.id)' },
  { name: 'service-zone', type: 'string', value: 'name', help: 'Local zone name (node.locality.zone)' },
  { name: 'version', type: 'boolean', help: 'Displays version information and exits' },
  { name: 'help', short: 'h', type: 'boolean', help: 'Displays usage information and exits' },
];

const SYNOPSIS = 'il-proxy [-c <path>] [--config-yaml <yaml>] [--mode serve|validate] [-l <level>] [--component-log-level <list>] [--log-format <format>] [--log-path <path>] [--drain-time-s <seconds>] [--drain-strategy gradual|immediate] [--parent-shutdown-time-s <seconds>] [--version] [-h]';

/** The full `--help` text. */
export function usage(): string {
  const lines = ['USAGE:', '', `   ${SYNOPSIS}`, '', 'Where:', ''];
  for (const flag of FLAGS) {
    const value = flag.value === undefined ? '' : ` <${flag.value}>`;
    const names = flag.short === undefined ? `--${flag.name}${value}` : `-${flag.short}${value},  --${flag.name}${value}`;
    lines.push(`   ${names}`);
    for (const line of flag.help.split('\n')) lines.push(`     ${line}`);
    lines.push('');
  }
  lines.push('   il-proxy runs Envoy v3 bootstrap configs: internal listeners, TcpProxy tunneling and CONNECT termination.', '');
  return lines.join('\n');
}

/** What a bad command line prints after its error, as Envoy (TCLAP) does. */
function briefUsage(): string {
  return `Brief USAGE:\n   ${SYNOPSIS}\n\nFor complete USAGE and HELP type:\n   il-proxy --help\n`;
}

function failure(message: string): ParseResult {
  return { ok: false, message: `${message}\n\n${briefUsage()}`, exitCode: 1 };
}

class ArgError extends Error {}

function uint32(flag: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = /^\d{1,10}$/.test(text) ? Number(text) : NaN;
  if (!(value <= 0xffffffff)) throw new ArgError(`error: --${flag} must be an unsigned 32-bit integer, got '${text}'`);
  return value;
}

function componentLevels(text: string | undefined): Record<string, EnvoyLogLevel> {
  const out: Record<string, EnvoyLogLevel> = {};
  if (text === undefined || text === '') return out;
  for (const item of text.split(',')) {
    const parts = item.split(':');
    if (parts.length !== 2) throw new ArgError(`error: component log level not correctly specified '${item}'`);
    const [name = '', levelText = ''] = parts;
    const level = parseLogLevel(levelText);
    if (level === undefined) throw new ArgError(`error: invalid log level specified '${levelText}'`);
    if (!(COMPONENTS as readonly string[]).includes(name)) throw new ArgError(`error: invalid component specified '${name}'`);
    out[name] = level;
  }
  return out;
}

/** Parses `process.argv.slice(2)`. Never throws and never prints. */
export function parseArgs(argv: readonly string[]): ParseResult {
  let values: Record<string, string | boolean | undefined>;
  try {
    const options = Object.fromEntries(
      FLAGS.map((flag) => [flag.name, flag.short === undefined ? { type: flag.type } : { type: flag.type, short: flag.short }]),
    );
    values = parseNodeArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    return failure(`error: ${error instanceof Error ? error.message : String(error)}`);
  }
  const string = (name: string): string | undefined => {
    const value = values[name];
    return typeof value === 'string' ? value : undefined;
  };

  if (values.help === true) return { ok: false, message: usage(), exitCode: 0 };
  if (values.version === true) return { ok: false, message: formatVersion(), exitCode: 0 };

  try {
    const mode = string('mode') ?? 'serve';
    if (mode !== 'serve' && mode !== 'validate') throw new ArgError(`error: unknown mode '${mode}'`);
    const drainStrategy = string('drain-strategy') ?? 'gradual';
    if (drainStrategy !== 'gradual' && drainStrategy !== 'immediate') throw new ArgError(`error: unknown drain-strategy '${drainStrategy}'`);
    const logLevelText = string('log-level') ?? 'info';
    const logLevel = parseLogLevel(logLevelText);
    if (logLevel === undefined) throw new ArgError(`error: invalid log level specified '${logLevelText}'`);
    const configPath = string('config-path');
    const configYaml = string('config-yaml');
    if ((configPath ?? '') === '' && (configYaml ?? '') === '') {
      throw new ArgError('error: a config is required: give -c/--config-path <path> or --config-yaml <yaml>');
    }
    const concurrency = Math.max(1, uint32('concurrency', string('concurrency'), 1));
    const logFormat = string('log-format');

    const options: CliOptions = {
      ...(configPath === undefined || configPath === '' ? {} : { configPath }),
      ...(configYaml === undefined || configYaml === '' ? {} : { configYaml }),
      allowUnknownStaticFields: values['allow-unknown-static-fields'] === true || values['allow-unknown-fields'] === true,
      mode,
      logLevel,
      componentLogLevels: componentLevels(string('component-log-level')),
      logFormat: logFormat ?? DEFAULT_LOG_FORMAT,
      logFormatSet: logFormat !== undefined,
      ...optional('logPath', string('log-path')),
      ...optional('adminAddressPath', string('admin-address-path')),
      drainTimeSeconds: uint32('drain-time-s', string('drain-time-s'), 600),
      parentShutdownTimeSeconds: uint32('parent-shutdown-time-s', string('parent-shutdown-time-s'), 900),
      drainStrategy,
      baseId: uint32('base-id', string('base-id'), 0),
      concurrency,
      ...optional('serviceCluster', string('service-cluster')),
      ...optional('serviceNode', string('service-node')),
      ...optional('serviceZone', string('service-zone')),
    };

    const warnings: string[] = [];
    if (concurrency > 1) warnings.push(`--concurrency ${concurrency}: il-proxy runs one event loop; the value is recorded but not used`);
    if (values['allow-unknown-fields'] === true) warnings.push('--allow-unknown-fields is deprecated, use --allow-unknown-static-fields instead.');
    return { ok: true, options, warnings };
  } catch (error) {
    if (error instanceof ArgError) return failure(error.message);
    throw error;
  }
}

function optional<K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, string>);
}

/** The options in Envoy's CommandLineOptions JSON form, for `/server_info`. */
export function toCommandLineOptions(options: CliOptions): Record<string, unknown> {
  return {
    base_id: String(options.baseId),
    concurrency: options.concurrency,
    config_path: options.configPath ?? '',
    config_yaml: options.configYaml ?? '',
    allow_unknown_static_fields: options.allowUnknownStaticFields,
    admin_address_path: options.adminAddressPath ?? '',
    log_level: options.logLevel,
    component_log_level: Object.entries(options.componentLogLevels)
      .map(([name, level]) => `${name}:${level}`)
      .join(','),
    log_format: options.logFormat,
    log_path: options.logPath ?? '',
    service_cluster: options.serviceCluster ?? '',
    service_node: options.serviceNode ?? '',
    service_zone: options.serviceZone ?? '',
    mode: options.mode === 'serve' ? 'Serve' : 'Validate',
    drain_time: `${options.drainTimeSeconds}s`,
    drain_strategy: options.drainStrategy === 'gradual' ? 'Gradual' : 'Immediate',
    parent_shutdown_time: `${options.parentShutdownTimeSeconds}s`,
    disable_hot_restart: true,
  };
}
