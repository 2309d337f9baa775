#!/usr/bin/env node
// First: SIGUSR1 must never open Node's inspector, not even while the config loads.
import { answerSignals } from './server/process-signals.js';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '@il/config/runtime';
import { parseArgs } from './cli/options.js';
import { createLogging, type Log } from './logging/index.js';
import { loadConfigInWorker } from './server/config-loader.js';
import { ProxyServer } from './server/proxy-server.js';
import { exposeMinorGc, gcPacingLimitBytes, YoungGcPacer } from './server/young-gc-pacer.js';

/** The built-in demo: the whole tunnel in one process (examples/tunnel.yaml). */
const DEMO_CONFIG = fileURLToPath(new URL('../../../examples/tunnel.yaml', import.meta.url));
const CONFIG_FLAGS = ['-c', '--config-path', '--config-yaml'];

async function main(argv: string[]): Promise<number> {
  const wantsInfo = argv.some((a) => ['-h', '--help', '--version'].includes(a));
  const hasConfig = argv.some((a) => CONFIG_FLAGS.some((f) => a === f || a.startsWith(`${f}=`)));
  const demo = !wantsInfo && !hasConfig;
  if (demo) {
    if (!existsSync(DEMO_CONFIG)) {
      process.stderr.write(`il-proxy: no config given (-c FILE), and the built-in demo ${DEMO_CONFIG} is missing\n`);
      return 1;
    }
    argv = ['-c', DEMO_CONFIG, ...argv];
  }
  const parsed = parseArgs(argv);
  if (!parsed.ok) {
    (parsed.exitCode === 0 ? process.stdout : process.stderr).write(parsed.message.endsWith('\n') ? parsed.message : `${parsed.message}\n`);
    return parsed.exitCode;
  }
  const { options } = parsed;
  if (options.mode === 'validate') {
    // The validator (every zod schema) is loaded only here; serve mode validates in a worker.
    const { runValidate } = await import('./cli/validate.js');
    const result = runValidate(options);
    (result.exitCode === 0 ? process.stdout : process.stderr).write(result.output);
    return result.exitCode;
  }

  const logging = createLogging({
    level: options.logLevel,
    componentLevels: options.componentLogLevels,
    format: options.logFormat,
    ...(options.logPath === undefined ? {} : { path: options.logPath }),
  });
  const log = logging.logger('main');
  for (const warning of parsed.warnings) log.warn(warning);

  let loaded;
  try {
    loaded = await loadConfigInWorker(options);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    logging.flushSync();
    process.stderr.write(`error initializing configuration '${options.configPath ?? '--config-yaml'}':\n${error.message}\n`);
    return 1;
  }
  for (const warning of loaded.warnings) log.warn(`${warning.path}: ${warning.message}`);

  let exiting = false;
  const exit = (code: number): void => {
    if (exiting) return;
    exiting = true;
    logging.flushSync();
    logging.close();
    process.exit(code);
  };
  const server = new ProxyServer(loaded.bootstrap, logging, options, exit);
  try {
    await server.start();
  } catch (error) {
    log.fatal((error as Error).message);
    logging.flushSync();
    // The log is on stderr unless --log-path sends it to a file: then stderr says it once too.
    if (options.logPath !== undefined) process.stderr.write(`${(error as Error).message}\n`);
    return 1;
  }

  startGcPacing(server, log);

  // SIGTERM drains for --drain-time-s; SIGINT (Ctrl-C) does the same, fast; a second signal exits now.
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (signalled) exit(1);
    signalled = true;
    const drainMs = signal === 'SIGTERM' ? options.drainTimeSeconds * 1000 : 0;
    log.warn(`caught ${signal}`);
    void server.stop(drainMs).then(() => exit(0));
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  answerSignals({ log, reopenLogs: () => server.reopenLogs() });
  // As Envoy crashes on a bug (its signal handler logs the backtrace at critical first), so does
  // il-proxy: the state after an uncaught exception is unknown, and a supervisor restarts a clean
  // process. Keeping on serving would hide the bug and may serve from broken state.
  const crash = (what: string, error: unknown): void => {
    log.fatal(`${what}, exiting: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    exit(70);
  };
  process.on('uncaughtException', (error) => crash('uncaught exception', error));
  process.on('unhandledRejection', (reason) => crash('unhandled promise rejection', reason));

  if (demo) {
    const admin = server.admin === undefined ? '' : `\n  admin:    http://${server.admin.address}/`;
    process.stdout.write(
      `il-proxy is running the built-in demo (examples/tunnel.yaml): HTTP on 127.0.0.1:10000 is carried\n` +
        `through internal listener "encap", an HTTP/2 CONNECT tunnel to 127.0.0.1:10001 and internal listener "decap".\n` +
        `  try:      curl 127.0.0.1:10000            (prints "Hello, world!")${admin}\n` +
        `  stop:     Ctrl-C\n`,
    );
  }
  return -1; // keep serving
}

/** Minor GCs paced to read-buffer memory (docs/performance.md), unless IL_GC_PACING_MIB=0. */
function startGcPacing(server: ProxyServer, log: Log): void {
  const limitBytes = gcPacingLimitBytes(process.env);
  if (limitBytes instanceof Error) {
    log.warn(`${limitBytes.message}; GC pacing is off`);
    return;
  }
  if (limitBytes === 0) return;
  const minorGc = exposeMinorGc();
  if (minorGc === undefined) {
    log.warn('this V8 does not expose gc(); GC pacing is off');
    return;
  }
  const listeners = server.runtime.listenerManager;
  new YoungGcPacer({ limitBytes, minorGc, isActive: () => listeners.activeConnections > 0 }).start();
  log.debug(`GC pacing: a minor GC per ${String(limitBytes / 1024 / 1024)} MiB of new buffer memory`);
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (error: unknown) => {
    process.stderr.write(`il-proxy: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
