import { once } from 'node:events';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type Listener } from '@il/config';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../../test-support/ports.js';
import { waitFor } from '../../../test-support/wait.js';
import {
  ClusterManager,
  FilterState,
  InternalListenerRegistry,
  ListenerManager,
  PassthroughState,
  Store,
  formatAddress,
  type DownstreamConnection,
  type NetworkFilterFactory,
} from '../src/index.js';
import { readAll, whenClosed } from './helpers.js';

const TCP_PROXY = 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A stand-in terminal filter: answers with the filter's stat_prefix and what it saw, then echoes. */
function echoFactory(seen: DownstreamConnection[]): NetworkFilterFactory {
  return {
    typeUrl: TCP_PROXY,
    create: (config) => (connection) => {
      seen.push(connection);
      const prefix = 'stat_prefix' in config ? config.stat_prefix : '?';
      connection.socket.write(`${prefix}|${formatAddress(connection.streamInfo.downstreamRemoteAddress ?? { kind: 'pipe', path: '' })}\n`);
      connection.socket.pipe(connection.socket);
    },
  };
}

function chain(statPrefix: string, match = ''): string {
  return `    - ${match ? `filter_chain_match: ${match}\n      ` : ''}filters:
      - name: tcp
        typed_config: { "@type": ${TCP_PROXY}, stat_prefix: ${statPrefix}, cluster: c }
`;
}

function bootstrapOf(listeners: string, internal = true) {
  const text = `${internal ? `bootstrap_extensions:
- name: envoy.bootstrap.internal_listener
  typed_config: { "@type": type.googleapis.com/envoy.extensions.bootstrap.internal_listener.v3.InternalListener }
` : ''}static_resources:
  listeners:
${listeners}
  clusters:
  - name: c
`;
  return loadConfig({ text, name: 'listeners.yaml' }).bootstrap;
}

async function start(listeners: readonly Listener[], options: { registry?: InternalListenerRegistry; seen?: DownstreamConnection[]; store?: Store } = {}) {
  const store = options.store ?? new Store();
  const seen = options.seen ?? [];
  const clusterManager = new ClusterManager([], { scope: store.root });
  const manager = new ListenerManager({
    listeners,
    filterFactories: [echoFactory(seen)],
    clusterManager,
    registry: options.registry,
    scope: store.root,
  });
  await manager.start();
  cleanups.push(async () => {
    await manager.shutdown(0);
    clusterManager.close();
  });
  return { manager, store, seen };
}

/** The first line the peer sends; the socket stays open (an async iterator would destroy it). */
function firstLine(socket: net.Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (chunk: Buffer): void => {
      text += chunk.toString();
      if (text.includes('\n')) {
        socket.off('data', onData);
        resolve(text.split('\n')[0] ?? '');
      }
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.once('end', () => resolve(text));
  });
}

describe('ListenerManager', () => {
  it('binds IPv4, IPv6 and Unix listeners and hands each connection to its filter with its addresses', async () => {
    const [p4, p6] = [await freePort(), await freePort('::1')];
    const dir = mkdtempSync(join(tmpdir(), 'il-lm-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'l.sock');
    const bootstrap = bootstrapOf(`  - name: v4
    address: { socket_address: { address: 127.0.0.1, port_value: ${p4} } }
    filter_chains:
${chain('v4')}  - name: v6
    address: { socket_address: { address: "::1", port_value: ${p6} } }
    filter_chains:
${chain('v6')}  - name: unix
    address: { pipe: { path: ${path}, mode: 384 } }
    filter_chains:
${chain('unix')}`);
    const { manager, store, seen } = await start(bootstrap.static_resources.listeners);
    const v4 = net.connect(p4, '127.0.0.1');
    expect(await firstLine(v4)).toMatch(/^v4\|127\.0\.0\.1:\d+$/);
    const v6 = net.connect(p6, '::1');
    expect(await firstLine(v6)).toMatch(/^v6\|\[::1\]:\d+$/);
    const unix = net.connect(path);
    expect(await firstLine(unix)).toBe(`unix|${path}`);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(manager.listeners()).toEqual([
      { name: 'v4', address: `127.0.0.1:${p4}`, internal: false },
      { name: 'v6', address: `[::1]:${p6}`, internal: false },
      { name: 'unix', address: path, internal: false },
    ]);
    expect(new Set(seen.map((c) => c.streamInfo.connectionId)).size).toBe(3);
    expect(store.value(`listener.127.0.0.1_${p4}.downstream_cx_total`)).toBe(1);
    expect(store.value(`listener.127.0.0.1_${p4}.downstream_cx_active`)).toBe(1);
    const closed = whenClosed(seen[0]?.socket as net.Socket);
    v4.destroy();
    await closed;
    expect(store.value(`listener.127.0.0.1_${p4}.downstream_cx_active`)).toBe(0);
    expect(store.value(`listener.127.0.0.1_${p4}.downstream_cx_destroy`)).toBe(1);
    v6.destroy();
    unix.destroy();
  });

  it('registers internal listeners, whose connections carry the passthrough state into their StreamInfo', async () => {
    const registry = new InternalListenerRegistry();
    const bootstrap = bootstrapOf(`  - name: inner
    internal_listener: {}
    filter_chains:
${chain('inner')}`);
    const { store, seen } = await start(bootstrap.static_resources.listeners, { registry });
    const filterState = new FilterState();
    filterState.set('internal_state', 'FOO', { sharing: 'transitive' });
    filterState.set('internal_state_once', 'BAZ', { sharing: 'once' });
    const client = registry.connect(
      { serverListenerName: 'inner', endpointId: 'lorem_ipsum' },
      { passthroughState: PassthroughState.capture({ metadata: { tunnel: { destination: '10.0.0.1:443' } }, filterState }), hops: 1 },
    );
    client.end();
    const answer = (await readAll(client)).toString();
    expect(answer).toBe('inner|envoy://internal_client_address/\n');
    const connection = seen[0];
    expect(connection?.hops).toBe(2);
    expect(formatAddress(connection?.streamInfo.downstreamLocalAddress ?? { kind: 'pipe', path: '' })).toBe('envoy://inner/lorem_ipsum');
    expect(connection?.streamInfo.dynamicMetadata).toEqual({ tunnel: { destination: '10.0.0.1:443' } });
    expect(connection?.streamInfo.filterState.getObject('internal_state')?.sharing).toBe('transitive');
    expect(connection?.streamInfo.filterState.getObject('internal_state_once')?.sharing).toBe('none');
    expect(store.value('listener.envoy_internal_inner.downstream_cx_total')).toBe(1);
  });

  it('an internal listener without the bootstrap extension fails to start with Envoy\'s message', async () => {
    const bootstrap = bootstrapOf(`  - name: inner
    internal_listener: {}
    filter_chains:
${chain('inner')}`);
    const manager = new ListenerManager({
      listeners: bootstrap.static_resources.listeners,
      filterFactories: [echoFactory([])],
      clusterManager: new ClusterManager([], { scope: new Store().root }),
      registry: undefined,
      scope: new Store().root,
    });
    await expect(manager.start()).rejects.toThrow("error adding listener named 'inner': InternalListener bootstrap extension is mandatory");
  });

  it('selects the filter chain by destination port and source range, and closes unmatched connections', async () => {
    const port = await freePort();
    const bootstrap = bootstrapOf(`  - name: l
    address: { socket_address: { address: 127.0.0.1, port_value: ${port} } }
    filter_chains:
${chain('wrong_port', `{ destination_port: ${port === 1 ? 2 : 1} }`)}${chain('loopback_source', '{ source_prefix_ranges: [ { address_prefix: 127.0.0.0, prefix_len: 8 } ] }')}${chain('any')}`);
    const { store } = await start(bootstrap.static_resources.listeners);
    const socket = net.connect(port, '127.0.0.1');
    expect(await firstLine(socket)).toMatch(/^loopback_source\|/);
    socket.destroy();

    const port2 = await freePort();
    const strict = bootstrapOf(`  - name: strict
    address: { socket_address: { address: 127.0.0.1, port_value: ${port2} } }
    filter_chains:
${chain('only_10', '{ source_prefix_ranges: [ { address_prefix: 10.0.0.0, prefix_len: 8 } ] }')}`);
    await start(strict.static_resources.listeners, { store });
    const refused = net.connect(port2, '127.0.0.1');
    refused.resume();
    await once(refused, 'close');
    expect(store.value(`listener.127.0.0.1_${port2}.no_filter_chain_match`)).toBe(1);
  });

  it('a taken port fails start-up with the listener and address named, and leaves nothing bound', async () => {
    const [free, taken] = [await freePort(), await freePort()];
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(taken, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => blocker.close(() => resolve())));
    const bootstrap = bootstrapOf(`  - name: first
    address: { socket_address: { address: 127.0.0.1, port_value: ${free} } }
    filter_chains:
${chain('first')}  - name: second
    address: { socket_address: { address: 127.0.0.1, port_value: ${taken} } }
    filter_chains:
${chain('second')}`);
    const manager = new ListenerManager({
      listeners: bootstrap.static_resources.listeners,
      filterFactories: [echoFactory([])],
      clusterManager: new ClusterManager([], { scope: new Store().root }),
      registry: undefined,
      scope: new Store().root,
    });
    await expect(manager.start()).rejects.toThrow(
      `error adding listener 'second' (127.0.0.1:${taken}): cannot bind '127.0.0.1:${taken}': Address already in use`,
    );
    // The first listener was closed again: its port can be bound.
    const probe = net.createServer();
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.listen(free, '127.0.0.1', resolve);
    });
    probe.close();
  });

  it('a filter that throws on a new connection closes that connection only', async () => {
    const port = await freePort();
    const bootstrap = bootstrapOf(`  - name: l
    address: { socket_address: { address: 127.0.0.1, port_value: ${port} } }
    filter_chains:
${chain('x')}`);
    let calls = 0;
    const factory: NetworkFilterFactory = {
      typeUrl: TCP_PROXY,
      create: () => (connection) => {
        calls++;
        if (calls === 1) throw new Error('filter bug');
        connection.socket.end('fine\n');
      },
    };
    const store = new Store();
    const clusterManager = new ClusterManager([], { scope: store.root });
    const manager = new ListenerManager({ listeners: bootstrap.static_resources.listeners, filterFactories: [factory], clusterManager, registry: undefined, scope: store.root });
    await manager.start();
    cleanups.push(() => manager.shutdown(0));
    const first = net.connect(port, '127.0.0.1');
    first.resume();
    await once(first, 'close');
    const second = net.connect(port, '127.0.0.1');
    expect(await firstLine(second)).toBe('fine');
  });

  it('shutdown stops accepting, signals drain, waits for open connections, then closes the rest', async () => {
    const port = await freePort();
    const bootstrap = bootstrapOf(`  - name: l
    address: { socket_address: { address: 127.0.0.1, port_value: ${port} } }
    filter_chains:
${chain('x')}`);
    const { manager } = await start(bootstrap.static_resources.listeners);
    // The drain signal must come while the open connection is still being waited for.
    let openAtDrain: number | undefined;
    manager.drain.on('drain', () => (openAtDrain = manager.activeConnections));
    const open = net.connect(port, '127.0.0.1');
    await firstLine(open);
    open.on('error', () => undefined);
    const openClosed = once(open, 'close');
    const started = Date.now();
    const shutdown = manager.shutdown(300);
    await waitFor(() => openAtDrain !== undefined, 10_000, 'the drain signal');
    expect(openAtDrain).toBe(1);
    const late = net.connect(port, '127.0.0.1');
    const [error] = (await once(late, 'error')) as [NodeJS.ErrnoException];
    expect(error.code).toBe('ECONNREFUSED');
    await shutdown;
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    await openClosed;
    expect(manager.activeConnections).toBe(0);
  });
});
