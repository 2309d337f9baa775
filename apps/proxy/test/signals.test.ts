// Signals and crashes as Envoy has them (source/server/server.cc): SIGUSR1 reopens the logs (and
// never opens Node's inspector), SIGHUP is logged and ignored, and an uncaught exception is logged
// at critical with its stack before the process exits for its supervisor to restart it.
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor, within } from '../../../test-support/wait.js';
import { runIlProxy, serve, writeConfig } from './il-proxy-process.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A TcpProxy listener to a closed port, with a file access log, and the admin. */
function config(accessLog: string): string {
  return `admin:
  address: { socket_address: { address: 127.0.0.1, port_value: 9901 } }
static_resources:
  listeners:
  - name: front
    address: { socket_address: { address: 127.0.0.1, port_value: 10000 } }
    filter_chains:
    - filters:
      - name: tcp
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
          stat_prefix: front
          cluster: nowhere
          access_log:
          - name: file
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
              path: ${accessLog}
              log_format: { text_format_source: { inline_string: "conn %RESPONSE_FLAGS%\\n" } }
  clusters:
  - name: nowhere
    connect_timeout: 1s
    load_assignment:
      cluster_name: nowhere
      endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: 9 } } } }] }]
`;
}

/** One connection through the listener, closed by the proxy (its upstream refuses): one access log line. */
async function oneConnection(port: number): Promise<void> {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  socket.resume();
  await within(new Promise((resolve) => socket.once('close', resolve)), 10_000, 'the proxy to close the connection');
}

async function ready(adminPort: number): Promise<string> {
  return (await fetch(`http://127.0.0.1:${adminPort}/ready`)).text();
}

function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), 'il-signals-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function start(extra: string[] = [], env?: NodeJS.ProcessEnv) {
  const started = await serve(config(join(scratch(), 'access.log')), extra, env === undefined ? {} : { env });
  cleanups.push(started.cleanup);
  return started;
}

describe('signals', () => {
  it('SIGUSR1 reopens the access logs and --log-path after rotation, and opens no inspector', async () => {
    const dir = scratch();
    const accessLog = join(dir, 'access.log');
    const logPath = join(dir, 'il-proxy.log');
    const written = await writeConfig(config(accessLog));
    cleanups.push(written.cleanup);
    const proxy = runIlProxy(['-c', written.path, '--log-path', logPath, '-l', 'info']);
    cleanups.push(async () => {
      await proxy.stop('SIGKILL');
    });
    const ports = written.ports;
    // With --log-path the log goes to the file, not to stdout.
    await waitFor(() => existsSync(logPath) && readFileSync(logPath, 'utf8').includes('starting main dispatch loop'), 15_000, 'the main loop line in --log-path');
    const port = ports.get(10000) as number;
    await oneConnection(port);
    await waitFor(() => existsSync(accessLog) && readFileSync(accessLog, 'utf8') === 'conn UF,URX\n', 10_000, 'the first access log line');
    renameSync(accessLog, `${accessLog}.1`);
    renameSync(logPath, `${logPath}.1`);
    proxy.child.kill('SIGUSR1');
    // The line is written before the reopen (to the rotated file, as Envoy's is); the next line of
    // the log goes to the new file.
    await waitFor(() => readFileSync(`${logPath}.1`, 'utf8').includes('[info][main] caught SIGUSR1. Reopening access logs.'), 10_000, 'the SIGUSR1 line');
    await waitFor(() => existsSync(logPath), 10_000, 'the --log-path file to be reopened');
    proxy.child.kill('SIGHUP');
    await waitFor(() => readFileSync(logPath, 'utf8').includes('caught and eating SIGHUP'), 10_000, 'the next log line in the reopened --log-path');
    await oneConnection(port);
    await waitFor(() => existsSync(accessLog) && readFileSync(accessLog, 'utf8') === 'conn UF,URX\n', 10_000, 'the second line in the reopened access log');
    expect(readFileSync(`${accessLog}.1`, 'utf8')).toBe('conn UF,URX\n');
    // Node's own SIGUSR1 would have started the inspector: it says so on stderr and listens on 9229.
    expect(proxy.stderr()).not.toMatch(/Debugger listening/);
    expect(proxy.stdout()).not.toMatch(/Debugger listening/);
    expect(await ready(ports.get(9901) as number)).toBe('LIVE\n');
  }, 60_000);

  it('SIGUSR1 during start-up opens no inspector either', async () => {
    const started = await start();
    // The earliest point a test can reach is after the main loop started; the handler is in place
    // from the first module il-proxy evaluates (process-signals.ts), before the config is read.
    started.proxy.child.kill('SIGUSR1');
    await waitFor(() => /caught SIGUSR1/.test(started.proxy.stdout() + started.proxy.stderr()), 10_000, 'the SIGUSR1 log line');
    expect(started.proxy.stderr()).not.toMatch(/Debugger listening/);
  }, 30_000);

  it('SIGHUP is logged and ignored: the process keeps serving', async () => {
    const { proxy, ports } = await start();
    proxy.child.kill('SIGHUP');
    await proxy.waitForOutput(/\[warning\]\[main\] caught and eating SIGHUP\. See documentation for how to hot restart\./);
    expect(await ready(ports.get(9901) as number)).toBe('LIVE\n');
    await oneConnection(ports.get(10000) as number);
    expect(proxy.child.exitCode).toBeNull();
  }, 30_000);

  it('an uncaught exception is logged at critical with its stack, and the process exits (70) for its supervisor to restart', async () => {
    // A test-only preload (NODE_OPTIONS=--import): SIGUSR2 makes the process throw from a timer.
    const preload = join(scratch(), 'throw-on-sigusr2.mjs');
    writeFileSync(preload, 'process.on("SIGUSR2", () => setImmediate(() => { throw new Error("boom from a test"); }));\n');
    const { proxy } = await start([], { NODE_OPTIONS: `--import=${preload}` });
    proxy.child.kill('SIGUSR2');
    expect(await within(proxy.exited, 15_000, 'the process to exit')).toBe(70);
    const output = proxy.stdout() + proxy.stderr();
    expect(output).toMatch(/\[critical\]\[main\] uncaught exception, exiting: Error: boom from a test\n\s+at /);
  }, 30_000);

  it('an unhandled promise rejection is a crash too', async () => {
    const preload = join(scratch(), 'reject-on-sigusr2.mjs');
    writeFileSync(preload, 'process.on("SIGUSR2", () => { void Promise.reject(new Error("rejected in a test")); });\n');
    const { proxy } = await start([], { NODE_OPTIONS: `--import=${preload}` });
    proxy.child.kill('SIGUSR2');
    expect(await within(proxy.exited, 15_000, 'the process to exit')).toBe(70);
    expect(proxy.stdout() + proxy.stderr()).toMatch(/\[critical\]\[main\] unhandled promise rejection, exiting: Error: rejected in a test/);
  }, 30_000);
});

