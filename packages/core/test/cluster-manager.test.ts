import { once } from 'node:events';
import net from 'node:net';
import { loadConfig } from '@il/config';
import { afterEach, describe, expect, it } from 'vitest';
import { startBlackhole } from '../../../test-support/blackhole.js';
import { waitFor } from '../../../test-support/wait.js';
import { ClusterManager, InternalListenerRegistry, Store, type UpstreamCluster, type UpstreamConnection } from '../src/index.js';
import { whenClosed } from './helpers.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function clusterManager(yaml: string, options: { registry?: InternalListenerRegistry; store?: Store } = {}): { manager: ClusterManager; store: Store } {
  const { bootstrap } = loadConfig({ text: `static_resources:\n  clusters:\n${yaml}`, name: 'test.yaml' });
  const store = options.store ?? new Store();
  const manager = new ClusterManager(bootstrap.static_resources.clusters, { scope: store.root, registry: options.registry });
  cleanups.push(() => manager.close());
  return { manager, store };
}

function staticCluster(name: string, ports: number[], extra = ''): string {
  const endpoints = ports
    .map((port) => `          - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${port} } } }`)
    .join('\n');
  return `  - name: ${name}
    connect_timeout: 0.5s
${extra}    load_assignment:
      cluster_name: ${name}
      endpoints:
      - lb_endpoints:
${endpoints}
`;
}

async function tcpServer(): Promise<{ port: number; accepted: net.Socket[] }> {
  const accepted: net.Socket[] = [];
  const server = net.createServer((s) => accepted.push(s));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => {
    for (const s of accepted) s.destroy();
    server.close();
  });
  return { port: (server.address() as net.AddressInfo).port, accepted };
}

function mustConnect(cluster: UpstreamCluster): UpstreamConnection {
  const connection = cluster.connect();
  if (typeof connection === 'string') throw new Error(`connect failed: ${connection}`);
  return connection;
}

describe('ClusterManager', () => {
  it('ROUND_ROBIN cycles through the hosts in order', () => {
    const { manager } = clusterManager(staticCluster('rr', [1001, 1002, 1003]));
    const cluster = manager.get('rr');
    const picks = Array.from({ length: 9 }, () => cluster?.chooseHost()?.addressString);
    expect(picks).toEqual([
      '127.0.0.1:1001', '127.0.0.1:1002', '127.0.0.1:1003',
      '127.0.0.1:1001', '127.0.0.1:1002', '127.0.0.1:1003',
      '127.0.0.1:1001', '127.0.0.1:1002', '127.0.0.1:1003',
    ]);
  });

  it('ROUND_ROBIN honours load_balancing_weight', () => {
    const { bootstrap } = loadConfig({
      name: 'w.yaml',
      text: `static_resources:
  clusters:
  - name: w
    load_assignment:
      cluster_name: w
      endpoints:
      - lb_endpoints:
        - { endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: 1 } } }, load_balancing_weight: 3 }
        - { endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: 2 } } }, load_balancing_weight: 1 }
`,
    });
    const manager = new ClusterManager(bootstrap.static_resources.clusters, { scope: new Store().root });
    cleanups.push(() => manager.close());
    const counts = new Map<string, number>();
    for (let i = 0; i < 400; i++) {
      const host = manager.get('w')?.chooseHost()?.addressString ?? '';
      counts.set(host, (counts.get(host) ?? 0) + 1);
    }
    expect(counts.get('127.0.0.1:1')).toBe(300);
    expect(counts.get('127.0.0.1:2')).toBe(100);
  });

  it('LEAST_REQUEST picks the least loaded host', () => {
    const { manager } = clusterManager(staticCluster('lr', [2001, 2002], '    lb_policy: LEAST_REQUEST\n'));
    const cluster = manager.get('lr');
    const [busy, idle] = cluster?.hosts() ?? [];
    if (busy === undefined || idle === undefined) throw new Error('hosts missing');
    busy.stats.rq_active = 5;
    idle.stats.rq_active = 1;
    for (let i = 0; i < 20; i++) expect(cluster?.chooseHost()).toBe(idle);
    idle.stats.rq_active = 9;
    for (let i = 0; i < 20; i++) expect(cluster?.chooseHost()).toBe(busy);
  });

  it('counts connections: total, active, bytes, destroy local/remote, connect time', async () => {
    const { port, accepted } = await tcpServer();
    const { manager, store } = clusterManager(staticCluster('c', [port]));
    const cluster = manager.get('c') as UpstreamCluster;
    const connection = mustConnect(cluster);
    await once(connection.socket, 'connect');
    expect(store.value('cluster.c.upstream_cx_total')).toBe(1);
    expect(store.value('cluster.c.upstream_cx_active')).toBe(1);
    expect(connection.host.stats.cx_active).toBe(1);
    connection.socket.write('hello');
    // The upstream answers once it has the request: accepted, and all 5 bytes read.
    await waitFor(() => accepted.length === 1, 10_000, 'the upstream to accept the connection');
    const upstream = accepted[0] as net.Socket;
    let upstreamRead = 0;
    upstream.on('data', (chunk: Buffer) => (upstreamRead += chunk.length));
    await waitFor(() => upstreamRead === 5, 10_000, "the upstream to read 'hello'");
    upstream.end('world!');
    connection.socket.resume();
    await whenClosed(connection.socket);
    expect(store.value('cluster.c.upstream_cx_active')).toBe(0);
    expect(store.value('cluster.c.upstream_cx_tx_bytes_total')).toBe(5);
    expect(store.value('cluster.c.upstream_cx_rx_bytes_total')).toBe(6);
    expect(store.value('cluster.c.upstream_cx_destroy')).toBe(1);
    expect(store.value('cluster.c.upstream_cx_destroy_remote')).toBe(1);
    const connectMs = store.histograms().find((h) => h.name === 'cluster.c.upstream_cx_connect_ms');
    expect(connectMs?.count).toBe(1);
  });

  it('connect_timeout against a blackhole fails the connection and counts connect_timeout and connect_fail', async () => {
    const blackhole = await startBlackhole();
    cleanups.push(blackhole.close);
    const { manager, store } = clusterManager(staticCluster('bh', [blackhole.port]).replace('0.5s', '0.2s'));
    const connection = mustConnect(manager.get('bh') as UpstreamCluster);
    const closed = whenClosed(connection.socket);
    const [error] = (await once(connection.socket, 'error')) as [NodeJS.ErrnoException];
    expect(error.code).toBe('ETIMEDOUT');
    await closed;
    expect(store.value('cluster.bh.upstream_cx_connect_timeout')).toBe(1);
    expect(store.value('cluster.bh.upstream_cx_connect_fail')).toBe(1);
    expect(connection.host.stats.cx_connect_fail).toBe(1);
  });

  it('a refused connection counts as connect_fail', async () => {
    const { port } = await tcpServer();
    cleanups.splice(0).forEach((c) => c()); // close it: the port refuses now
    const { manager, store } = clusterManager(staticCluster('refused', [port]));
    const connection = mustConnect(manager.get('refused') as UpstreamCluster);
    const closed = whenClosed(connection.socket);
    connection.socket.on('error', () => undefined);
    await closed;
    expect(store.value('cluster.refused.upstream_cx_connect_fail')).toBe(1);
    expect(store.value('cluster.refused.upstream_cx_connect_timeout')).toBe(0);
  });

  it('the max_connections circuit breaker refuses past the limit and counts upstream_cx_overflow', async () => {
    const { port } = await tcpServer();
    const breaker = '    circuit_breakers: { thresholds: [ { max_connections: 2 } ] }\n';
    const { manager, store } = clusterManager(staticCluster('cb', [port], breaker));
    const cluster = manager.get('cb') as UpstreamCluster;
    const first = mustConnect(cluster);
    const second = mustConnect(cluster);
    expect(cluster.connect()).toBe('overflow');
    expect(store.value('cluster.cb.upstream_cx_overflow')).toBe(1);
    expect(store.value('cluster.cb.circuit_breakers.default.cx_open')).toBe(1);
    first.socket.destroy();
    await whenClosed(first.socket);
    expect(store.value('cluster.cb.circuit_breakers.default.cx_open')).toBe(0);
    const third = cluster.connect();
    expect(typeof third).toBe('object');
    second.socket.destroy();
    if (typeof third === 'object') third.socket.destroy();
  });

  it('a cluster without hosts reports no healthy upstream and counts it', () => {
    const { manager, store } = clusterManager('  - name: empty\n');
    expect(manager.get('empty')?.connect()).toBe('no_healthy_upstream');
    expect(store.value('cluster.empty.upstream_cx_none_healthy')).toBe(1);
  });

  it('STRICT_DNS resolves localhost into hosts, following dns_lookup_family', async () => {
    const yaml = (family: string) => `  - name: dns_${family.toLowerCase()}
    type: STRICT_DNS
    dns_lookup_family: ${family}
    load_assignment:
      cluster_name: dns_${family.toLowerCase()}
      endpoints:
      - lb_endpoints:
        - endpoint: { address: { socket_address: { address: localhost, port_value: 8080 } } }
`;
    const { manager, store } = clusterManager(yaml('V4_ONLY') + yaml('V6_ONLY'));
    await manager.initialize();
    expect(manager.get('dns_v4_only')?.hosts().map((h) => h.addressString)).toEqual(['127.0.0.1:8080']);
    expect(manager.get('dns_v4_only')?.hosts()[0]?.hostname).toBe('localhost');
    expect(store.value('cluster.dns_v4_only.update_success')).toBe(1);
    expect(store.value('cluster.dns_v4_only.membership_total')).toBe(1);
    const v6 = manager.get('dns_v6_only')?.hosts().map((h) => h.addressString);
    // /etc/hosts may or may not map localhost to ::1; when it does, the host is IPv6.
    for (const address of v6 ?? []) expect(address).toBe('[::1]:8080');
  });

  it('a failing DNS lookup keeps the cluster usable and counts update_failure', async () => {
    const { bootstrap } = loadConfig({
      name: 'dns.yaml',
      text: `static_resources:
  clusters:
  - name: logical
    type: LOGICAL_DNS
    load_assignment:
      cluster_name: logical
      endpoints:
      - lb_endpoints:
        - endpoint: { address: { socket_address: { address: no.such.host.invalid, port_value: 443 } } }
`,
    });
    const store = new Store();
    const manager = new ClusterManager(bootstrap.static_resources.clusters, {
      scope: store.root,
      dnsResolver: () => Promise.reject(new Error('ENOTFOUND no.such.host.invalid')),
    });
    cleanups.push(() => manager.close());
    await manager.initialize();
    expect(store.value('cluster.logical.update_failure')).toBe(1);
    expect(manager.get('logical')?.connect()).toBe('no_healthy_upstream');
  });

  it('LOGICAL_DNS keeps one host whose address follows DNS', async () => {
    const { bootstrap } = loadConfig({
      name: 'logical.yaml',
      text: `static_resources:
  clusters:
  - name: logical
    type: LOGICAL_DNS
    dns_refresh_rate: 0.05s
    load_assignment:
      cluster_name: logical
      endpoints:
      - lb_endpoints:
        - endpoint: { address: { socket_address: { address: svc.test, port_value: 80 } } }
`,
    });
    let answer = '127.0.0.1';
    const manager = new ClusterManager(bootstrap.static_resources.clusters, {
      scope: new Store().root,
      dnsResolver: () => Promise.resolve([answer, '127.0.0.9']),
    });
    cleanups.push(() => manager.close());
    await manager.initialize();
    const cluster = manager.get('logical') as UpstreamCluster;
    const host = cluster.hosts()[0];
    expect(cluster.hosts()).toHaveLength(1);
    expect(host?.addressString).toBe('127.0.0.1:80');
    answer = '127.0.0.2';
    // The next refresh (every 50 ms) moves the host to the new answer.
    await waitFor(() => cluster.hosts()[0]?.addressString === '127.0.0.2:80', 10_000, 'the host to follow the new DNS answer');
    expect(cluster.hosts()[0]).toBe(host);
    expect(host?.addressString).toBe('127.0.0.2:80');
  });

  it('internal hosts are dialled through the registry, and internal_upstream passes host and cluster metadata', async () => {
    const registry = new InternalListenerRegistry();
    const received: Array<Record<string, unknown>> = [];
    registry.listen('inner', (socket) => {
      received.push(socket.passthroughState?.metadata ?? {});
      socket.end();
    });
    const yaml = `  - name: internal
    metadata: { filter_metadata: { cluster_ns: { region: eu } } }
    transport_socket:
      name: envoy.transport_sockets.internal_upstream
      typed_config:
        "@type": type.googleapis.com/envoy.extensions.transport_sockets.internal_upstream.v3.InternalUpstreamTransport
        passthrough_metadata:
        - { name: host_ns, kind: { host: {} } }
        - { name: cluster_ns, kind: { cluster: {} } }
        - { name: missing_ns, kind: { cluster: {} } }
        transport_socket:
          name: envoy.transport_sockets.raw_buffer
          typed_config: { "@type": type.googleapis.com/envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer }
    load_assignment:
      cluster_name: internal
      endpoints:
      - lb_endpoints:
        - endpoint: { address: { envoy_internal_address: { server_listener_name: inner, endpoint_id: lorem_ipsum } } }
          metadata: { filter_metadata: { host_ns: { destination: "10.0.0.1:443" } } }
`;
    const { bootstrap } = loadConfig({
      name: 'internal.yaml',
      text: `bootstrap_extensions:
- name: envoy.bootstrap.internal_listener
  typed_config: { "@type": type.googleapis.com/envoy.extensions.bootstrap.internal_listener.v3.InternalListener }
static_resources:
  listeners:
  - name: inner
    internal_listener: {}
    filter_chains: [ { filters: [ { name: tcp, typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy, stat_prefix: t, cluster: internal } } ] } ]
  clusters:
${yaml}`,
    });
    const store = new Store();
    const manager = new ClusterManager(bootstrap.static_resources.clusters, { scope: store.root, registry });
    cleanups.push(() => manager.close());
    const connection = mustConnect(manager.get('internal') as UpstreamCluster);
    expect(connection.host.addressString).toBe('envoy://inner/lorem_ipsum');
    connection.socket.resume();
    await whenClosed(connection.socket);
    expect(received).toEqual([{ host_ns: { destination: '10.0.0.1:443' }, cluster_ns: { region: 'eu' } }]);
    expect(store.value('cluster.internal.internal_upstream.no_metadata')).toBe(1);
  });
});
