// il-proxy spawned as a user runs it: `node apps/proxy/dist/main.js -c file.yaml`.
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync, readdirSync } from 'node:fs';
import net from 'node:net';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { requirePeer } from '../../../test-support/peers.js';
import { waitFor } from '../../../test-support/wait.js';
import { MAIN, runIlProxy, serve, writeConfig } from './il-proxy-process.js';
import { parsePrometheus } from './prometheus-parser.js';

const run = promisify(execFile);
const examplesDir = new URL('../../../examples/', import.meta.url);
const example = (name: string): string => readFileSync(new URL(name, examplesDir), 'utf8');

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function echoServer(port: number, options: { bytesPerSecond?: number } = {}): Promise<net.Server> {
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    socket.on('error', () => undefined);
    if (options.bytesPerSecond === undefined) {
      socket.pipe(socket);
      return;
    }
    // A slow echo: reads no faster than bytesPerSecond.
    const started = performance.now();
    let seen = 0;
    socket.on('data', (chunk: Buffer) => {
      seen += chunk.length;
      socket.write(chunk);
      const ahead = seen / (options.bytesPerSecond ?? 1) - (performance.now() - started) / 1000;
      if (ahead > 0.005) {
        socket.pause();
        setTimeout(() => socket.resume(), ahead * 1000);
      }
    });
    socket.on('end', () => socket.end());
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return server;
}

async function get(port: number, path: string, method = 'GET'): Promise<{ status: number; type: string; body: string }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, { method });
  return { status: response.status, type: response.headers.get('content-type') ?? '', body: await response.text() };
}

describe('il-proxy command line', () => {
  it('--version prints the version and exits 0; --help prints usage', async () => {
    const version = await run(process.execPath, [MAIN, '--version']);
    expect(version.stdout).toMatch(/il-proxy/);
    const help = await run(process.execPath, [MAIN, '--help']);
    expect(help.stdout).toMatch(/--config-path/);
  });

  it('an unknown flag prints usage and exits 1', async () => {
    const proxy = runIlProxy(['--no-such-flag']);
    expect(await proxy.exited).toBe(1);
    expect(proxy.stderr()).toMatch(/no-such-flag/);
    expect(proxy.stderr()).toMatch(/USAGE|Usage|usage/);
  });

  it('--mode validate accepts every project example and exits 0', async () => {
    for (const file of readdirSync(examplesDir).filter((f) => f.endsWith('.yaml'))) {
      const result = await run(process.execPath, [MAIN, '--mode', 'validate', '-c', new URL(file, examplesDir).pathname]);
      expect(result.stdout, file).toMatch(/OK/);
    }
  });

  it('--mode validate prints every issue with file:line:col and exits 1', async () => {
    const config = await writeConfig(
      `static_resources:
  listeners:
  - name: a
    address: { socket_address: { address: 127.0.0.1, port_value: 70000 } }
    filter_chains: [ { filters: [ { name: t, typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy, stat_prefix: s, cluster: c } } ] } ]
  clusters:
  - name: c
    connect_timeout: -1s
`,
      { remap: false },
    );
    cleanups.push(config.cleanup);
    const proxy = runIlProxy(['--mode', 'validate', '-c', config.path]);
    expect(await proxy.exited).toBe(1);
    expect(proxy.stderr()).toMatch(/2 issues/);
    expect(proxy.stderr()).toContain(`${config.path}:4:`);
    expect(proxy.stderr()).toMatch(/port_value/);
    expect(proxy.stderr()).toContain(`${config.path}:8:`);
    expect(proxy.stderr()).toMatch(/connect_timeout/);
  });

  it('a port that is taken fails start-up with the listener and address named, exit 1, and nothing left bound', async () => {
    const config = await writeConfig(example('tcp-chain.yaml'));
    cleanups.push(config.cleanup);
    const taken = config.ports.get(9999) as number;
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(taken, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => blocker.close(() => resolve())));
    const proxy = runIlProxy(['-c', config.path]);
    expect(await proxy.exited).toBe(1);
    const message = `error adding listener 'ingress' (127.0.0.1:${taken}): cannot bind '127.0.0.1:${taken}': Address already in use`;
    expect(proxy.stderr()).toContain(message);
    // Once: the critical log line is the report (it was printed a second time before).
    expect(proxy.stderr().split(message).length - 1).toBe(1);
    // The admin had bound first; it is released again.
    const admin = config.ports.get(9904) as number;
    const probe = net.createServer();
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.listen(admin, '127.0.0.1', resolve);
    });
    probe.close();
  });
});

describe('il-proxy serving examples/tcp-chain.yaml', () => {
  it('carries a real client (socat) through the chain, and its admin reports it in Envoy formats', async () => {
    const socat = requirePeer('socat');
    const { proxy, ports, cleanup } = await serve(example('tcp-chain.yaml'));
    cleanups.push(cleanup);
    await echoServer(ports.get(10000) as number);
    const { stdout } = await run('sh', ['-c', `echo "hello through il" | ${socat} -t 5 - TCP:127.0.0.1:${ports.get(9999)}`], { timeout: 20_000 });
    expect(stdout).toBe('hello through il\n');
    const admin = ports.get(9904) as number;

    expect(await get(admin, '/ready')).toMatchObject({ status: 200, body: 'LIVE\n' });
    const stats = await get(admin, '/stats');
    expect(stats.body).toContain('tcp.ingress.downstream_cx_total: 1\n');
    expect(stats.body).toContain('listener.envoy_internal_encap.downstream_cx_total: 1\n');
    expect(stats.body).toContain('cluster.encap_cluster.upstream_cx_total: 1\n');
    const json = JSON.parse((await get(admin, '/stats?format=json')).body) as { stats: Array<{ name?: string; value?: number }> };
    expect(json.stats.find((s) => s.name === 'tcp.encap.downstream_cx_total')?.value).toBe(1);
    const prometheus = await get(admin, '/stats/prometheus');
    expect(prometheus.type).toMatch(/^text\/plain; version=0\.0\.4/);
    const families = parsePrometheus(prometheus.body);
    const tcpTotal = families.find((f) => f.name === 'envoy_tcp_downstream_cx_total');
    expect(tcpTotal?.type).toBe('COUNTER');
    expect(tcpTotal?.metrics.find((m) => m.labels?.envoy_tcp_prefix === 'ingress')?.value).toBe('1');
    const clusterTotal = families.find((f) => f.name === 'envoy_cluster_upstream_cx_total');
    expect(clusterTotal?.metrics.find((m) => m.labels?.envoy_cluster_name === 'encap_cluster')?.value).toBe('1');
    const clusters = await get(admin, '/clusters');
    expect(clusters.body).toContain('encap_cluster::envoy://encap/::cx_total::1');
    expect((await get(admin, '/listeners')).body).toContain('encap::envoy://encap/');
    const dump = JSON.parse((await get(admin, '/config_dump')).body) as { configs: unknown[] };
    expect(JSON.stringify(dump.configs)).toContain('"idle_timeout":"3600s"');
    expect(JSON.parse((await get(admin, '/server_info')).body)).toMatchObject({ state: 'LIVE' });
    expect((await get(admin, '/quitquitquit')).status).toBe(405);
    expect(await proxy.stop('SIGTERM')).toBe(0);
  });

  it('SIGTERM during a long transfer stops new connections and lets the transfer finish within the drain time', async () => {
    const { proxy, ports, cleanup } = await serve(example('tcp-chain.yaml'), ['--drain-time-s', '20']);
    cleanups.push(cleanup);
    // 32 MiB echoed back by an upstream reading 16 MiB/s: about two seconds of transfer.
    await echoServer(ports.get(10000) as number, { bytesPerSecond: 16 * 1024 * 1024 });
    const payload = randomBytes(32 * 1024 * 1024);
    const client = net.connect({ port: ports.get(9999) as number, host: '127.0.0.1' });
    const hash = createHash('sha256');
    let received = 0;
    client.on('data', (d: Buffer) => {
      hash.update(d);
      received += d.length;
    });
    const ended = once(client, 'end');
    client.end(payload);
    // The transfer is under way once echoed bytes come back through the proxy; at 16 MiB/s the
    // upstream needs two seconds for the rest, so it is still in flight when SIGTERM comes.
    await waitFor(() => received > 0, 15_000, 'the first echoed bytes');
    expect(received).toBeLessThan(payload.length);
    const started = Date.now();
    proxy.child.kill('SIGTERM');
    await proxy.waitForOutput(/caught SIGTERM/);
    // New connections are refused at once.
    const late = net.connect(ports.get(9999) as number, '127.0.0.1');
    const [error] = (await once(late, 'error')) as [NodeJS.ErrnoException];
    expect(error.code).toBe('ECONNREFUSED');
    await ended;
    expect(received).toBe(payload.length);
    expect(hash.digest('hex')).toBe(createHash('sha256').update(payload).digest('hex'));
    expect(await proxy.exited).toBe(0);
    expect(Date.now() - started).toBeLessThan(20_000);
  });
});
