import type { AccessLog, FileAccessLog } from '@il/config/runtime';
import { FormatError } from '../formatter/format-error.js';
import { compileFormat, compileJsonFormat, compileLogFormat, type Formatter } from '../formatter/formatter.js';
import type { FormatContext } from '../formatter/operators.js';
import type { ConfigFinding } from '../network/network-filter.js';
import { AccessLogFileManager, type AccessLogFile } from './file-manager.js';

/** One configured access log: formats a line per call and hands it to its (buffered) destination. */
export interface AccessLogger {
  log(context: FormatContext): void;
  /** Writes what is buffered and lets go of the destination (closed when no other logger uses it). */
  close(): Promise<void>;
}

export interface CreateAccessLoggersOptions {
  /** The format used when a logger has none (DEFAULT_HTTP_ACCESS_LOG_FORMAT for HTTP, a TCP format for TcpProxy). */
  defaultFormat: string;
  /** Shares files across loggers and listeners, and owns flushing and `/reopen_logs`. A private one otherwise. */
  fileManager?: AccessLogFileManager | undefined;
}

const FILE = 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog';
const STDOUT = 'type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog';

/** FileAccessLog's formats: `log_format`, or the deprecated `format` (empty means default) and `json_format`. */
function fileFormatter(config: FileAccessLog, defaultFormat: string): Formatter {
  if (config.log_format !== undefined) return compileLogFormat(config.log_format, defaultFormat);
  if (config.json_format !== undefined) return compileJsonFormat(config.json_format);
  if (config.format !== undefined && config.format !== '') return compileFormat(config.format);
  return compileFormat(defaultFormat);
}

class FormattingLogger implements AccessLogger {
  constructor(
    private readonly formatter: Formatter,
    private readonly file: AccessLogFile,
  ) {}

  log(context: FormatContext): void {
    this.file.write(this.formatter.format(context));
  }

  close(): Promise<void> {
    return this.file.release();
  }
}

/** The formatter of one configured access log (what `createAccessLoggers` compiles for it). */
function formatterOf(config: AccessLog, defaultFormat: string): { formatter: Formatter; path: string } {
  const typed = config.typed_config;
  if (typed['@type'] === FILE) return { formatter: fileFormatter(typed, defaultFormat), path: typed.path };
  return { formatter: compileLogFormat(typed.log_format, defaultFormat), path: typed['@type'] === STDOUT ? '/dev/stdout' : '/dev/stderr' };
}

/**
 * The format strings of an `access_log` list that do not compile, without opening any file:
 * `path` is `access_log[i].typed_config`, under whatever holds the list.
 */
export function validateAccessLogs(configs: readonly AccessLog[] | undefined, defaultFormat: string): ConfigFinding[] {
  const findings: ConfigFinding[] = [];
  (configs ?? []).forEach((config, index) => {
    try {
      formatterOf(config, defaultFormat);
    } catch (error) {
      if (!(error instanceof FormatError)) throw error;
      findings.push({ path: `access_log[${index}].typed_config`, message: error.message });
    }
  });
  return findings;
}

/**
 * Builds the loggers of an `access_log` list: file (`path`, `log_format` or the deprecated
 * `format` / `json_format`), stdout and stderr. Every format is compiled here, so a bad one fails
 * the config (a FormatError naming the logger) rather than a log line.
 */
export function createAccessLoggers(configs: readonly AccessLog[] | undefined, options: CreateAccessLoggersOptions): AccessLogger[] {
  if (configs === undefined || configs.length === 0) return [];
  const formatters = configs.map((config, index) => {
    try {
      return formatterOf(config, options.defaultFormat);
    } catch (error) {
      throw error instanceof FormatError ? error.within(`access_log[${index}]${config.name === '' ? '' : ` (${config.name})`}`) : error;
    }
  });
  const manager = options.fileManager ?? new AccessLogFileManager();
  return formatters.map(({ formatter, path }) => new FormattingLogger(formatter, manager.open(path)));
}
