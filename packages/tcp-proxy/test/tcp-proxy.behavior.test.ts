import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { requirePeer } from '../../../test-support/peers.js';
import { freePort } from '../../../test-support/ports.js';
import { collect, example, startProxy, upstreamServer, waitFor } from './harness.js';

const run = promisify(execFile);
const TCP_PROXY = 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy';
const EXTENSION = `bootstrap_extensions:
- name: envoy.bootstrap.internal_listener
  typed_config: { "@type": type.googleapis.com/envoy.extensions.bootstrap.internal_listener.v3.InternalListener }
`;

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'il-tcp-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function accessLog(path: string, format: string): string {
  return `
          access_log:
          - name: envoy.access_loggers.file
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
              path: ${path}
              log_format: { text_format_source: { inline_string: "${format}\\n" } }`;
}

function tcpListener(name: string, port: number, statPrefix: string, cluster: string, extra = ''): string {
  return `  - name: ${name}
    address: { socket_address: { address: 127.0.0.1, port_value: ${port} } }
    filter_chains:
    - filters:
      - name: tcp
        typed_config:
          "@type": ${TCP_PROXY}
          stat_prefix: ${statPrefix}
          cluster: ${cluster}${extra}
`;
}

function internalListener(name: string, statPrefix: string, cluster: string, extra = ''): string {
  return `  - name: ${name}
    internal_listener: {}
    filter_chains:
    - filters:
      - name: tcp
        typed_config:
          "@type": ${TCP_PROXY}
          stat_prefix: ${statPrefix}
          cluster: ${cluster}${extra}
`;
}

function cluster(name: string, address: string, extra = ''): string {
  return `  - name: ${name}
    connect_timeout: 1s
${extra}    load_assignment:
      cluster_name: ${name}
      endpoints:
      - lb_endpoints:
        - endpoint: { address: ${address} }
`;
}

const tcp = (port: number) => `{ socket_address: { address: 127.0.0.1, port_value: ${port} } }`;
const internal = (name: string) => `{ envoy_internal_address: { server_listener_name: ${name} } }`;

async function echo(port = 0) {
  const server = await upstreamServer((socket) => socket.pipe(socket), port);
  cleanups.push(server.close);
  return server;
}

async function proxyOf(listeners: string, clusters: string, withExtension = true) {
  const proxy = await startProxy(`${withExtension ? EXTENSION : ''}static_resources:\n  listeners:\n${listeners}  clusters:\n${clusters}`, { remap: false });
  cleanups.push(() => proxy.close());
  return proxy;
}

async function roundTrip(port: number, payload: Buffer | string): Promise<Buffer> {
  const client = net.connect(port, '127.0.0.1');
  const received = collect(client);
  client.end(payload);
  return received;
}

describe('TcpProxy', () => {
  it('a real client (socat) pushes a file through the internal-listener chain to an echo server, intact', async () => {
    const socat = requirePeer('socat');
    const dir = tempDir();
    const file = join(dir, 'payload.bin');
    const payload = randomBytes(8 * 1024 * 1024);
    writeFileSync(file, payload);
    const proxy = await startProxy(example('tcp-chain.yaml'));
    cleanups.push(() => proxy.close());
    await echo(proxy.port(10000));
    const out = join(dir, 'echoed.bin');
    await run('sh', ['-c', `${socat} -t 5 -T 20 - TCP:127.0.0.1:${proxy.port(9999)} < ${file} > ${out}`], { timeout: 60_000 });
    const echoed = readFileSync(out);
    expect(echoed.length).toBe(payload.length);
    expect(createHash('sha256').update(echoed).digest('hex')).toBe(createHash('sha256').update(payload).digest('hex'));
  });

  it('chains three internal listeners deep', async () => {
    const echoServer = await echo();
    const port = await freePort();
    const proxy = await proxyOf(
      tcpListener('front', port, 'front', 'to_one') +
        internalListener('one', 'one', 'to_two') +
        internalListener('two', 'two', 'to_three') +
        internalListener('three', 'three', 'to_echo'),
      cluster('to_one', internal('one')) + cluster('to_two', internal('two')) + cluster('to_three', internal('three')) + cluster('to_echo', tcp(echoServer.port)),
    );
    const payload = randomBytes(3 * 1024 * 1024);
    expect((await roundTrip(port, payload)).equals(payload)).toBe(true);
    for (const hop of ['one', 'two', 'three']) expect(proxy.stat(`listener.envoy_internal_${hop}.downstream_cx_total`)).toBe(1);
  });

  it('an internal listener that loops to itself is stopped at the hop limit with a clear error, not a hang', async () => {
    const dir = tempDir();
    const port = await freePort();
    const proxy = await proxyOf(
      tcpListener('front', port, 'front', 'to_loop') +
        internalListener('loop', 'loop', 'to_loop', accessLog(join(dir, 'loop.log'), '%RESPONSE_FLAGS% %UPSTREAM_TRANSPORT_FAILURE_REASON%')),
      cluster('to_loop', internal('loop')),
    );
    const started = Date.now();
    const answer = await roundTrip(port, 'anyone there?');
    expect(answer.length).toBe(0);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(proxy.stat('listener.envoy_internal_loop.downstream_cx_total')).toBe(proxy.runtime.registry?.maxHops);
    await waitFor(() => proxy.runtime.listenerManager.activeConnections === 0, 5000, 'the loop to unwind');
    await proxy.close();
    const log = readFileSync(join(dir, 'loop.log'), 'utf8');
    expect(log).toContain('UF,URX connect_ELOOP_envoy://loop/:_the_connection_would_be_33_internal_listeners_deep_(limit_32)');
  });

  it('retries max_connect_attempts times with backoff, then closes with UF,URX and counts attempts exceeded', async () => {
    const dir = tempDir();
    const [port, closedPort] = [await freePort(), await freePort()];
    const proxy = await proxyOf(
      tcpListener(
        'front',
        port,
        'front',
        'dead',
        `\n          max_connect_attempts: 3\n          backoff_options: { base_interval: 0.05s, max_interval: 0.1s }${accessLog(join(dir, 'a.log'), '%RESPONSE_FLAGS% %UPSTREAM_CLUSTER%')}`,
      ),
      cluster('dead', tcp(closedPort)),
      false,
    );
    expect((await roundTrip(port, 'x')).length).toBe(0);
    expect(proxy.stat('cluster.dead.upstream_cx_connect_fail')).toBe(3);
    expect(proxy.stat('cluster.dead.upstream_cx_connect_attempts_exceeded')).toBe(1);
    await proxy.close();
    expect(readFileSync(join(dir, 'a.log'), 'utf8')).toBe('UF,URX dead\n');
  });

  it('logs UO when the circuit breaker is full and UH when the cluster has no host; each closes the client at once', async () => {
    const dir = tempDir();
    const echoServer = await echo();
    const [full, empty] = [await freePort(), await freePort()];
    const proxy = await proxyOf(
      tcpListener('full', full, 'full', 'breaker', accessLog(join(dir, 'full.log'), '%RESPONSE_FLAGS%')) +
        tcpListener('empty', empty, 'empty', 'nohosts', accessLog(join(dir, 'empty.log'), '%RESPONSE_FLAGS%')),
      cluster('breaker', tcp(echoServer.port), '    circuit_breakers: { thresholds: [ { max_connections: 0 } ] }\n') + '  - name: nohosts\n',
      false,
    );
    expect((await roundTrip(full, 'x')).length).toBe(0);
    expect((await roundTrip(empty, 'x')).length).toBe(0);
    expect(proxy.stat('cluster.breaker.upstream_cx_overflow')).toBe(1);
    expect(proxy.stat('cluster.nohosts.upstream_cx_none_healthy')).toBe(1);
    await proxy.close();
    expect(readFileSync(join(dir, 'full.log'), 'utf8')).toBe('UO\n');
    expect(readFileSync(join(dir, 'empty.log'), 'utf8')).toBe('UH\n');
  });

  it('max_downstream_connection_duration closes a busy connection and logs DT', async () => {
    const dir = tempDir();
    const echoServer = await echo();
    const port = await freePort();
    const proxy = await proxyOf(
      tcpListener('front', port, 'front', 'echo', `\n          max_downstream_connection_duration: 0.2s${accessLog(join(dir, 'd.log'), '%RESPONSE_FLAGS%')}`),
      cluster('echo', tcp(echoServer.port)),
      false,
    );
    const client = net.connect(port, '127.0.0.1');
    client.resume();
    const ticker = setInterval(() => client.write('still here'), 20);
    cleanups.push(() => clearInterval(ticker));
    const started = Date.now();
    await once(client, 'close');
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    expect(proxy.stat('tcp.front.max_downstream_connection_duration')).toBe(1);
    await proxy.close();
    expect(readFileSync(join(dir, 'd.log'), 'utf8')).toBe('DT\n');
  });

  it('idle_timeout 0s disables the idle timeout', async () => {
    const echoServer = await echo();
    const port = await freePort();
    const proxy = await proxyOf(tcpListener('front', port, 'front', 'echo', '\n          idle_timeout: 0s'), cluster('echo', tcp(echoServer.port)), false);
    const client = net.connect(port, '127.0.0.1');
    client.write('a');
    await once(client, 'data');
    // A silence window after the echo proved the session is up: no idle timeout may close it
    // meanwhile (a loaded machine can only make the window too short to see one, never fail).
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(client.destroyed).toBe(false);
    expect(proxy.stat('tcp.front.idle_timeout')).toBe(0);
    client.destroy();
  });

  it('traffic in either direction keeps pushing the idle timeout back', async () => {
    const port = await freePort();
    const upstream = await upstreamServer((socket) => {
      const ticker = setInterval(() => socket.write('tick'), 40);
      socket.on('close', () => clearInterval(ticker));
    });
    cleanups.push(upstream.close);
    const proxy = await proxyOf(tcpListener('front', port, 'front', 'ticker', '\n          idle_timeout: 0.15s'), cluster('ticker', tcp(upstream.port)), false);
    const client = net.connect(port, '127.0.0.1');
    client.resume();
    // The first tick through the proxy shows the session is up and traffic flows.
    await once(client, 'data');
    // Then a window of more than three idle timeouts with ticks every 40 ms: an observation
    // window for the idle timeout that must not fire, not a wait for something to happen.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(client.destroyed).toBe(false);
    expect(proxy.stat('tcp.front.idle_timeout')).toBe(0);
    client.destroy();
  });

  it('weighted_clusters spread connections by weight', async () => {
    const [a, b] = [await echo(), await echo()];
    const port = await freePort();
    const proxy = await proxyOf(
      `  - name: front
    address: ${tcp(port)}
    filter_chains:
    - filters:
      - name: tcp
        typed_config:
          "@type": ${TCP_PROXY}
          stat_prefix: front
          weighted_clusters: { clusters: [ { name: a, weight: 3 }, { name: b, weight: 1 } ] }
`,
      cluster('a', tcp(a.port)) + cluster('b', tcp(b.port)),
      false,
    );
    for (let i = 0; i < 200; i++) await roundTrip(port, 'x');
    const toA = proxy.stat('cluster.a.upstream_cx_total') ?? 0;
    const toB = proxy.stat('cluster.b.upstream_cx_total') ?? 0;
    expect(toA + toB).toBe(200);
    expect(toA).toBeGreaterThan(120);
    expect(toB).toBeGreaterThan(20);
  });

  it('the drainer flushes what the client sent to a slow upstream after the client is gone', async () => {
    const port = await freePort();
    const payload = randomBytes(16 * 1024 * 1024);
    let upstreamSocket: net.Socket | undefined;
    const upstream = await upstreamServer((socket) => {
      // Answers and half-closes at once, and reads nothing yet: the client finishes and goes
      // away while the proxy still holds bytes for this upstream.
      socket.pause();
      socket.end('bye');
      upstreamSocket = socket;
    });
    cleanups.push(upstream.close);
    // A large upstream buffer limit lets the proxy read all 16 MiB while the upstream is stalled.
    const proxy = await proxyOf(
      tcpListener('front', port, 'front', 'slow'),
      cluster('slow', tcp(upstream.port), '    per_connection_buffer_limit_bytes: 67108864\n'),
      false,
    );
    const client = net.connect(port, '127.0.0.1');
    const answer = collect(client);
    client.end(payload);
    expect((await answer).toString()).toBe('bye');
    await once(client, 'close');
    await waitFor(() => proxy.stat(`listener.127.0.0.1_${port}.downstream_cx_active`) === 0, 5000, 'the downstream to close');
    expect(proxy.stat('tcp.front.upstream_flush_total')).toBe(1);
    expect(proxy.stat('tcp.front.upstream_flush_active')).toBe(1);
    const socket = upstreamSocket as net.Socket;
    const received = collect(socket);
    socket.resume();
    const data = await received;
    expect(data.length).toBe(payload.length);
    expect(createHash('sha256').update(data).digest('hex')).toBe(createHash('sha256').update(payload).digest('hex'));
    await waitFor(() => proxy.stat('tcp.front.upstream_flush_active') === 0, 5000, 'the drainer to finish');
  });
});
