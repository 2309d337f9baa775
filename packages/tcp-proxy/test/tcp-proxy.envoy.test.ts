// Envoy's internal-listener TcpProxy cases (envoy-behavior.md §7.6) and its RST propagation
// cases (§7.4), each named after the Envoy test it mirrors. The chain is the project's example
// examples/tcp-chain.yaml: client -> TCP listener (TcpProxy) -> internal listener "encap"
// (TcpProxy) -> fake upstream, on free ports.
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Arrivals } from '../../../test-support/arrivals.js';
import { readBytes } from '../../../test-support/streams.js';
import { collect, example, startProxy, upstreamServer, waitFor, type RunningProxy } from './harness.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** The tcp-chain example, with optional extra TcpProxy fields on the internal hop and access logs on both. */
async function chain(options: { encapExtra?: string; logDir?: string } = {}): Promise<{ proxy: RunningProxy; upstreamPort: number }> {
  let text = example('tcp-chain.yaml');
  const logDir = options.logDir;
  if (logDir !== undefined) {
    const log = (file: string) => `
          access_log:
          - name: envoy.access_loggers.file
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
              path: ${join(logDir, file)}
              log_format: { text_format_source: { inline_string: "%DOWNSTREAM_DETECTED_CLOSE_TYPE% %UPSTREAM_DETECTED_CLOSE_TYPE% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %UPSTREAM_HOST%\\n" } }`;
    text = text
      .replace('stat_prefix: ingress\n          cluster: encap_cluster', `stat_prefix: ingress\n          cluster: encap_cluster${log('ingress.log')}`)
      .replace('stat_prefix: encap\n          cluster: upstream', `stat_prefix: encap\n          cluster: upstream${log('encap.log')}`);
  }
  if (options.encapExtra !== undefined) {
    text = text.replace('stat_prefix: encap\n          cluster: upstream', `stat_prefix: encap\n          cluster: upstream\n          ${options.encapExtra}`);
  }
  const proxy = await startProxy(text);
  cleanups.push(() => proxy.close());
  return { proxy, upstreamPort: proxy.port(10000) };
}

/** A client; half-open ones keep their write side after EOF (for the half-close cases). */
function connectClient(proxy: RunningProxy, allowHalfOpen = false): net.Socket {
  const client = net.connect({ port: proxy.port(9999), host: '127.0.0.1', allowHalfOpen });
  client.on('error', () => undefined);
  cleanups.push(() => void client.destroy());
  return client;
}

async function fakeUpstream(port: number): Promise<{ next: () => Promise<net.Socket>; close: () => Promise<void> }> {
  const sockets = new Arrivals<net.Socket>();
  const server = await upstreamServer((socket) => sockets.push(socket), port);
  cleanups.push(server.close);
  return { next: () => sockets.next(), close: server.close };
}

describe('InternalListener TcpProxy (envoy-behavior.md §7.6)', () => {
  it('TcpProxyUpstreamWritesFirst: server-first data, then half-close each way, then disconnect', async () => {
    const { proxy, upstreamPort } = await chain();
    const upstream = await fakeUpstream(upstreamPort);
    const client = connectClient(proxy, true);
    const server = await upstream.next();
    server.write('hello');
    expect((await readBytes(client, 5)).toString()).toBe('hello');
    client.write('hello');
    expect((await readBytes(server, 5)).toString()).toBe('hello');
    // Upstream FIN reaches the client as a half-close; the client can still send.
    const clientEnded = once(client, 'end');
    server.end();
    await clientEnded;
    client.write('more');
    expect((await readBytes(server, 4)).toString()).toBe('more');
    // Client FIN reaches the upstream; then everything closes.
    const serverEnded = once(server, 'end');
    const closed = Promise.all([once(client, 'close'), once(server, 'close')]);
    client.end();
    await serverEnded;
    await closed;
  });

  it('TcpProxyDownstreamWritesFirst: "hell" reaches the upstream; its "world" and FIN reach the client', async () => {
    const { proxy, upstreamPort } = await chain();
    const upstream = await fakeUpstream(upstreamPort);
    const client = connectClient(proxy);
    client.write('hell');
    const server = await upstream.next();
    expect((await readBytes(server, 4)).toString()).toBe('hell');
    const received = collect(client);
    server.end('world');
    expect((await received).toString()).toBe('world');
  });

  it('TcpProxyUpstreamDisconnect: the client sees all the data the upstream sent before it closed, then EOF', async () => {
    const { proxy, upstreamPort } = await chain();
    const upstream = await fakeUpstream(upstreamPort);
    const client = connectClient(proxy);
    const server = await upstream.next();
    client.write('hello');
    await readBytes(server, 5);
    const received = collect(client);
    server.write('world'.repeat(1000));
    server.destroy();
    expect((await received).toString()).toBe('world'.repeat(1000));
  });

  it('TcpProxyDownstreamDisconnect: the upstream gets all 9 bytes and the half-close; its FIN disconnects the client', async () => {
    const { proxy, upstreamPort } = await chain();
    const upstream = await fakeUpstream(upstreamPort);
    const client = connectClient(proxy);
    client.write('hell');
    const server = await upstream.next();
    const all = collect(server);
    client.end('world');
    expect((await all).toString()).toBe('hellworld');
    const closed = once(client, 'close');
    client.resume();
    server.end();
    await closed;
  });

  it('NoUpstream: a final cluster pointing at a closed port disconnects the client (flags UF,URX)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'il-tcp-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const { proxy } = await chain({ logDir: dir });
    const client = connectClient(proxy);
    client.resume();
    await once(client, 'close');
    await waitFor(() => proxy.stat('cluster.upstream.upstream_cx_connect_fail') === 1, 5000, 'connect fail');
    expect(proxy.stat('cluster.upstream.upstream_cx_connect_attempts_exceeded')).toBe(1);
    await proxy.close();
    const encapLog = readFileSync(join(dir, 'encap.log'), 'utf8');
    expect(encapLog).toMatch(/^Normal - UF,URX 0 0 127\.0\.0\.1:\d+\n$/);
  });

  it('ShutdownWithOpenConnections: shutting down with live internal connections half-closes the upstream; nothing leaks', async () => {
    const { proxy, upstreamPort } = await chain();
    const upstream = await fakeUpstream(upstreamPort);
    const client = connectClient(proxy);
    client.write('x');
    const server = await upstream.next();
    await readBytes(server, 1);
    const serverEnded = once(server, 'end');
    await proxy.close();
    await serverEnded;
    expect(proxy.runtime.listenerManager.activeConnections).toBe(0);
    expect(proxy.runtime.registry?.get('encap')?.connectionCount ?? 0).toBe(0);
  });

  it('TestIdletimeoutWithNoData: idle_timeout 100 ms on the internal hop disconnects the client', async () => {
    const { proxy, upstreamPort } = await chain({ encapExtra: 'idle_timeout: 0.1s' });
    const upstream = await fakeUpstream(upstreamPort);
    const client = connectClient(proxy);
    client.resume();
    await upstream.next();
    const started = Date.now();
    await once(client, 'close');
    expect(Date.now() - started).toBeGreaterThanOrEqual(80);
    expect(proxy.stat('tcp.encap.idle_timeout')).toBe(1);
  });
});

describe('InternalListenerResetIntegrationTest (envoy-behavior.md §7.4)', () => {
  it('DownstreamRstPropagation: a client RST reaches the upstream as an RST; the internal hop logs RemoteReset', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'il-tcp-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const { proxy, upstreamPort } = await chain({ logDir: dir });
    const upstream = await fakeUpstream(upstreamPort);
    const client = connectClient(proxy);
    client.write('x');
    const server = await upstream.next();
    await readBytes(server, 1);
    const serverError = new Promise<NodeJS.ErrnoException>((resolve) => server.once('error', resolve));
    client.resetAndDestroy();
    expect((await serverError).code).toBe('ECONNRESET');
    await waitFor(() => proxy.runtime.listenerManager.activeConnections === 0, 5000, 'connections to close');
    await proxy.close();
    expect(readFileSync(join(dir, 'encap.log'), 'utf8')).toMatch(/^RemoteReset /);
    expect(readFileSync(join(dir, 'ingress.log'), 'utf8')).toMatch(/^RemoteReset /);
  });

  it('UpstreamRstPropagation: an upstream RST disconnects the client with a reset; the TCP listener logs upstream RemoteReset', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'il-tcp-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const { proxy, upstreamPort } = await chain({ logDir: dir });
    const upstream = await fakeUpstream(upstreamPort);
    const client = net.connect({ port: proxy.port(9999), host: '127.0.0.1' });
    const clientError = new Promise<NodeJS.ErrnoException>((resolve) => client.once('error', resolve));
    client.write('x');
    const server = await upstream.next();
    await readBytes(server, 1);
    server.resetAndDestroy();
    expect((await clientError).code).toBe('ECONNRESET');
    await waitFor(() => proxy.runtime.listenerManager.activeConnections === 0, 5000, 'connections to close');
    await proxy.close();
    expect(readFileSync(join(dir, 'ingress.log'), 'utf8')).toMatch(/^\S+ RemoteReset /);
    expect(readFileSync(join(dir, 'encap.log'), 'utf8')).toMatch(/^\S+ RemoteReset /);
  });
});
