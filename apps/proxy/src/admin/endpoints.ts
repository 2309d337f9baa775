/**
 * The admin endpoints: Envoy's paths, help texts, POST-only rules and output formats
 * (source/server/admin/admin.cc and the *_handler.cc beside it), each a function of the
 * AdminContext and the query.
 */
import { renderCerts } from './certs.js';
import { renderClustersJson, renderClustersText } from './clusters.js';
import { toConfigDump } from './config-dump.js';
import type { AdminContext, ServerState } from './context.js';
import { renderListenersJson, renderListenersText } from './listeners.js';
import { PROMETHEUS_CONTENT_TYPE, renderPrometheus } from './prometheus.js';
import { parseStatsParams, renderStatsJson, renderStatsText, type StatsFormat } from './stats.js';
import type { Log } from '../logging/logging.js';
import { LOG_LEVELS, parseLogLevel } from '../logging/levels.js';

export const TEXT = 'text/plain; charset=UTF-8';
export const JSON_TYPE = 'application/json';
export const HTML = 'text/html; charset=UTF-8';

export interface AdminResponse {
  readonly status: number;
  readonly body: string;
  /** Default: TEXT. */
  readonly contentType?: string;
  /** Runs once the response has been sent (or the client went away). */
  readonly after?: () => void;
}

export interface ParamHelp {
  readonly name: string;
  readonly help: string;
  readonly choices?: readonly string[];
}

export interface Endpoint {
  readonly path: string;
  readonly help: string;
  /**
   * Whether it changes the server, and so needs POST (405 otherwise). `with-params`: only when
   * the query has parameters (`GET /logging` lists, `POST /logging?level=debug` changes).
   */
  readonly mutates: boolean | 'with-params';
  readonly params?: readonly ParamHelp[];
  handle(query: URLSearchParams): AdminResponse | Promise<AdminResponse>;
}

const ok = (body = 'OK\n'): AdminResponse => ({ status: 200, body });
const json = (value: unknown, pretty = true): AdminResponse => ({
  status: 200,
  contentType: JSON_TYPE,
  body: `${JSON.stringify(value, null, pretty ? 2 : undefined)}\n`,
});

/**
 * What /ready and /server_info report. As in Envoy (server/utils.cc serverState), a server that
 * was told to fail health checks reports DRAINING: load balancers that probe /ready take it out
 * of rotation, exactly like those that probe the health-check filter.
 */
export function reportedState(context: AdminContext): ServerState {
  const { state } = context.serverInfo();
  return state === 'LIVE' && context.healthcheck.failed() ? 'DRAINING' : state;
}

function runtimeJson(values: Record<string, unknown>): unknown {
  if (Array.isArray(values.layers) && typeof values.entries === 'object' && values.entries !== null) return values;
  const text = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value));
  const entries: Record<string, unknown> = {};
  for (const key of Object.keys(values).sort()) entries[key] = { final_value: text(values[key]), layer_values: [text(values[key])] };
  return { layers: ['static_layer'], entries };
}

function loggingList(context: AdminContext): string {
  const levels = context.logging.levels();
  let out = 'active loggers:\n';
  for (const name of Object.keys(levels).sort()) out += `  ${name}: ${levels[name] ?? ''}\n`;
  return `${out}\n`;
}

function loggingUsage(error: string): string {
  return (
    `error: ${error}\n\n` +
    'usage: /logging?<name>=<level> (change single level)\n' +
    'usage: /logging?paths=name1:level1,name2:level2,... (change multiple levels)\n' +
    'usage: /logging?level=<level> (change all levels)\n' +
    `levels: ${LOG_LEVELS.join(' ')} \n`
  );
}

/** Envoy's LogsHandler::changeLogLevel: all names and levels are checked before anything changes. */
function changeLogLevels(context: AdminContext, query: URLSearchParams, log: Log): string | undefined {
  const params = [...query.entries()].filter(([key, value]) => !((key === 'level' || key === 'paths') && value === ''));
  if (params.length === 0) return undefined;
  if (params.length !== 1) return 'invalid number of parameters';
  const [key, value] = params[0] as [string, string];
  const changes: [string, string][] = [];
  if (key === 'level') {
    changes.push(['all', value]);
  } else if (key === 'paths') {
    for (const item of value.split(',').filter((part) => part.trim() !== '')) {
      const at = item.indexOf(':');
      const name = at < 0 ? item.trim() : item.slice(0, at).trim();
      const level = at < 0 ? '' : item.slice(at + 1).trim();
      if (name === '' || level === '') return 'empty logger name or empty logger level';
      changes.push([name, level]);
    }
  } else {
    changes.push([key, value]);
  }
  const known = context.logging.levels();
  for (const [name, level] of changes) {
    if (parseLogLevel(level) === undefined) return `unknown logger level '${level}'`;
    if (name !== 'all' && !Object.hasOwn(known, name)) return 'unknown logger name';
  }
  for (const [name, level] of changes) {
    if (!context.logging.setLevel(name, level)) return `could not set '${name}' to '${level}'`;
    log.info(`change log level: name='${name}' level='${level}'`);
  }
  return undefined;
}

function renderStats(context: AdminContext, query: URLSearchParams, defaultFormat: StatsFormat): AdminResponse {
  const params = parseStatsParams(query, defaultFormat);
  if ('error' in params) return { status: 400, body: params.error };
  switch (params.format) {
    case 'prometheus':
      return { status: 200, contentType: PROMETHEUS_CONTENT_TYPE, body: renderPrometheus(context.stats, params) };
    case 'json':
      return { status: 200, contentType: JSON_TYPE, body: renderStatsJson(context.stats, params) };
    case 'text':
      return { status: 200, body: renderStatsText(context.stats, params) };
  }
}

const FORMAT_PARAM: ParamHelp = { name: 'format', help: 'File format to use', choices: ['text', 'json'] };

export function endpoints(context: AdminContext, log: Log, index: () => string, help: () => string): Endpoint[] {
  return [
    { path: '/', help: 'Admin home page', mutates: false, handle: () => ({ status: 200, contentType: HTML, body: index() }) },
    {
      path: '/certs',
      help: 'print certs on machine',
      mutates: false,
      handle: () => ({ status: 200, contentType: JSON_TYPE, body: renderCerts(context.certs()) }),
    },
    {
      path: '/clusters',
      help: 'upstream cluster status',
      mutates: false,
      params: [FORMAT_PARAM],
      handle: (query) =>
        query.get('format') === 'json'
          ? { status: 200, contentType: JSON_TYPE, body: renderClustersJson(context.clusters()) }
          : ok(renderClustersText(context.clusters())),
    },
    {
      path: '/config_dump',
      help: 'dump the effective config (every default filled in)',
      mutates: false,
      handle: (query) => {
        const unsupported = ['resource', 'mask', 'name_regex'].filter((name) => query.has(name));
        if (unsupported.length > 0) return { status: 400, body: `il-proxy does not support /config_dump?${unsupported.join('&')}\n` };
        return json(toConfigDump(context.configDump()));
      },
    },
    {
      path: '/drain_listeners',
      help: 'drain listeners',
      mutates: true,
      params: [
        { name: 'graceful', help: 'When draining listeners, enter a graceful drain period (--drain-time-s) before closing them' },
        { name: 'inboundonly', help: "Drain only inbound listeners (a listener's traffic_direction)" },
      ],
      handle: (query) => {
        const options = { graceful: query.has('graceful'), inboundOnly: query.has('inboundonly') };
        // Envoy answers at once and drains in the background: a graceful drain lasts --drain-time-s.
        context.drainListeners(options).catch((error: unknown) => log.error({ err: error }, 'drain_listeners failed'));
        return ok();
      },
    },
    {
      path: '/healthcheck/fail',
      help: 'cause the server to fail health checks',
      mutates: true,
      handle: () => {
        context.healthcheck.fail();
        return ok();
      },
    },
    {
      path: '/healthcheck/ok',
      help: 'cause the server to pass health checks',
      mutates: true,
      handle: () => {
        context.healthcheck.ok();
        return ok();
      },
    },
    { path: '/help', help: 'print out list of admin commands', mutates: false, handle: () => ok(help()) },
    {
      path: '/listeners',
      help: 'print listener info',
      mutates: false,
      params: [FORMAT_PARAM],
      handle: (query) =>
        query.get('format') === 'json'
          ? { status: 200, contentType: JSON_TYPE, body: renderListenersJson(context.listeners()) }
          : ok(renderListenersText(context.listeners())),
    },
    {
      path: '/logging',
      help: 'query (GET) or change (POST) logging levels',
      mutates: 'with-params',
      params: [
        { name: 'paths', help: 'Change multiple logging levels by setting to <logger_name1>:<desired_level1>,<logger_name2>:<desired_level2>' },
        { name: 'level', help: "desired logging level, this will change all loggers's level", choices: ['', ...LOG_LEVELS] },
      ],
      handle: (query) => {
        const error = changeLogLevels(context, query, log);
        if (error !== undefined) return { status: 400, body: loggingUsage(error) + loggingList(context) };
        return ok(loggingList(context));
      },
    },
    {
      path: '/quitquitquit',
      help: 'exit the server',
      mutates: true,
      handle: () => ({ status: 200, body: 'OK\n', after: () => context.quit() }),
    },
    {
      path: '/ready',
      help: 'print server state, return 200 if LIVE, otherwise return 503',
      mutates: false,
      handle: () => {
        const state = reportedState(context);
        return { status: state === 'LIVE' ? 200 : 503, body: `${state}\n` };
      },
    },
    {
      path: '/reopen_logs',
      help: 'reopen access logs',
      mutates: true,
      handle: () => {
        context.reopenLogs();
        return ok();
      },
    },
    { path: '/runtime', help: 'print runtime values', mutates: false, handle: () => json(runtimeJson(context.runtime())) },
    {
      path: '/server_info',
      help: 'print server version/status information',
      mutates: false,
      handle: () => {
        const info = context.serverInfo();
        const uptime = `${Math.max(0, Math.floor(info.uptimeSeconds))}s`;
        return json({
          version: info.version,
          state: reportedState(context),
          uptime_current_epoch: uptime,
          uptime_all_epochs: uptime,
          hot_restart_version: 'disabled',
          command_line_options: info.commandLineOptions,
          node: info.node,
        });
      },
    },
    {
      path: '/stats',
      help: 'print server stats',
      mutates: false,
      params: [
        { name: 'usedonly', help: 'Only include stats that have been written by system since restart' },
        { name: 'filter', help: 'Regular expression (JavaScript syntax) for filtering stats' },
        { name: 'format', help: 'Format to use', choices: ['text', 'json', 'prometheus'] },
        { name: 'type', help: 'Stat types to include.', choices: ['All', 'Counters', 'Histograms', 'Gauges', 'TextReadouts'] },
        { name: 'pretty', help: 'Indent JSON output' },
      ],
      handle: (query) => renderStats(context, query, 'text'),
    },
    {
      path: '/stats/prometheus',
      help: 'print server stats in prometheus format',
      mutates: false,
      params: [
        { name: 'usedonly', help: 'Only include stats that have been written by system since restart' },
        { name: 'filter', help: 'Regular expression (JavaScript syntax) for filtering stats' },
      ],
      handle: (query) => {
        const forced = new URLSearchParams(query);
        forced.set('format', 'prometheus');
        return renderStats(context, forced, 'prometheus');
      },
    },
  ];
}
