// Our tunnels against terminators nobody here wrote: Debian's squid for HTTP/1.1 CONNECT, and a
// CONNECT terminator on Debian's python3-h2 for HTTP/2. Client -> TcpProxy (tunneling_config)
// -> terminator -> echo server; what comes back is checked by sha256.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { requirePeer } from '../../../test-support/peers.js';
import { freePort } from '../../../test-support/ports.js';
import { readBytes, waitFor, within } from '../../http-connect/test/fixtures/tunnel-servers.js';
import { startProxy, type RunningProxy } from './harness.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const TERMINATOR = fileURLToPath(new URL('../../http-connect/test/fixtures/tunnel-h2-terminator.py', import.meta.url));

/** A file's text, or '' while it does not exist. */
function readFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** A TCP echo server on 127.0.0.1 that ends its side when the client does. */
async function echoServer(): Promise<number> {
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    socket.on('error', () => undefined);
    socket.pipe(socket);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return (server.address() as net.AddressInfo).port;
}

/** TcpProxy on a free port, tunnelling to `hostname` through the terminator at `terminatorPort`. */
async function tunnelProxy(protocol: 'http1' | 'http2', terminatorPort: number, hostname: string): Promise<{ proxy: RunningProxy; port: number }> {
  const port = await freePort();
  const h2 = `    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        explicit_http_config: { http2_protocol_options: {} }
`;
  const proxy = await startProxy(
    `static_resources:
  listeners:
  - name: encap
    address: { socket_address: { address: 127.0.0.1, port_value: ${port} } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.tcp_proxy
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
          stat_prefix: encap
          cluster: terminator
          tunneling_config: { hostname: "${hostname}" }
  clusters:
  - name: terminator
    connect_timeout: 5s
${protocol === 'http2' ? h2 : ''}    load_assignment:
      cluster_name: terminator
      endpoints:
      - lb_endpoints:
        - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${terminatorPort} } } }
`,
    { remap: false },
  );
  cleanups.push(() => proxy.close());
  return { proxy, port };
}

/** Stops a child we started, by its own handle, and waits (bounded) for it to exit. */
function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = once(child, 'exit').then(() => undefined);
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  return exited.finally(() => clearTimeout(timer));
}

/** Resolves once a TCP port accepts connections, or fails after `timeoutMs` (with `why()` in the message). */
async function waitForPort(port: number, timeoutMs: number, why: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ port, host: '127.0.0.1' });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listening on 127.0.0.1:${port} after ${timeoutMs} ms: ${why()}`);
    // The poll interval of this bounded wait for the port, not a wait in itself.
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('Interop with real tunnel terminators', () => {
  it("HTTP/1.1 CONNECT through Debian's squid: 8 MiB echoed sha256-intact", async () => {
    const squid = requirePeer('squid');
    const echoPort = await echoServer();
    const squidPort = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'il-squid-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    // Squid drops to its effective user (proxy) when run as root; it must be able to write here.
    chmodSync(dir, 0o777);
    const conf = join(dir, 'squid.conf');
    writeFileSync(
      conf,
      [
        `http_port 127.0.0.1:${squidPort}`,
        'acl localhost_src src 127.0.0.1/32',
        `acl echo_port port ${echoPort}`,
        'acl CONNECT method CONNECT',
        'http_access allow CONNECT localhost_src echo_port',
        'http_access deny all',
        'cache deny all',
        'cache_mem 8 MB',
        `pid_filename ${join(dir, 'squid.pid')}`,
        `cache_log ${join(dir, 'cache.log')}`,
        `access_log stdio:${join(dir, 'access.log')}`,
        `coredump_dir ${dir}`,
        'netdb_filename none',
        'shutdown_lifetime 0 seconds',
        'dns_nameservers 127.0.0.1',
        '',
      ].join('\n'),
    );
    const child = spawn(squid, ['-N', '-f', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    cleanups.push(() => stopChild(child));
    await waitForPort(squidPort, 20_000, () => `squid output: ${output} cache.log: ${readFile(join(dir, 'cache.log'))}`);

    const { port } = await tunnelProxy('http1', squidPort, `127.0.0.1:${echoPort}`);
    const payload = randomBytes(8 * 1024 * 1024);
    const client = net.connect({ port, host: '127.0.0.1' });
    client.on('error', () => undefined);
    cleanups.push(() => void client.destroy());
    // HTTP/1.1 tunnels have no half-close: the FIN comes after the echo is back.
    const echoed = readBytes(client, payload.length);
    client.write(payload);
    const started = performance.now();
    const back = await within(echoed, 60_000, '8 MiB echoed through squid');
    console.log(`squid HTTP/1.1 CONNECT: 8 MiB echoed in ${(performance.now() - started).toFixed(0)} ms`);
    expect(sha256(back)).toBe(sha256(payload));
    client.end();
    await within(once(client, 'close'), 5000, 'client close');
    // Squid logs the tunnel once it ends.
    const connectLine = new RegExp(`TCP_TUNNEL/200 \\d+ CONNECT 127\\.0\\.0\\.1:${echoPort}`);
    await waitFor(() => connectLine.test(readFile(join(dir, 'access.log'))), 10_000, 'the CONNECT in squid access.log');
  });

  it('HTTP/2 CONNECT through a python3-h2 terminator: 8 MiB up, FIN, 8 MiB back with END_STREAM, sha256-intact', async () => {
    const python = requirePeer('python3-h2');
    const echoPort = await echoServer();
    const child = spawn(python, [TERMINATOR], { stdio: ['ignore', 'pipe', 'pipe'] });
    cleanups.push(() => stopChild(child));
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const terminatorPort = await within(
      new Promise<number>((resolve, reject) => {
        let stdout = '';
        child.stdout.on('data', (chunk: Buffer) => {
          stdout += chunk.toString();
          const match = /listening (\d+)/.exec(stdout);
          if (match !== null) resolve(Number(match[1]));
        });
        child.once('exit', (code) => reject(new Error(`the terminator exited (${code}): ${stderr}`)));
      }),
      20_000,
      'the python3-h2 terminator to listen',
    );

    const { port, proxy } = await tunnelProxy('http2', terminatorPort, `127.0.0.1:${echoPort}`);
    const payload = randomBytes(8 * 1024 * 1024);
    const client = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    client.on('error', () => undefined);
    cleanups.push(() => void client.destroy());
    const chunks: Buffer[] = [];
    client.on('data', (chunk: Buffer) => chunks.push(chunk));
    const ended = once(client, 'end');
    const started = performance.now();
    // The FIN travels as END_STREAM; the echo server's FIN comes back as END_STREAM, then as our FIN.
    client.end(payload);
    await within(ended, 60_000, 'echo and FIN through the python3-h2 terminator');
    console.log(`python3-h2 HTTP/2 CONNECT: 8 MiB each way in ${(performance.now() - started).toFixed(0)} ms`);
    expect(sha256(Buffer.concat(chunks))).toBe(sha256(payload));
    await within(once(client, 'close'), 5000, 'client close');
    expect(proxy.stat('cluster.terminator.upstream_rq_total')).toBe(1);
  });
});
