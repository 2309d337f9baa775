// The shared HTTP/2 connection pool against a node:http2 server: stream limits, coalesced dials,
// GOAWAY, flow-control windows, idle timeout, request stats and failures.
import { once } from 'node:events';
import http2, { type ClientHttp2Stream, type ServerHttp2Stream } from 'node:http2';
import { afterEach, describe, expect, it } from 'vitest';
import { InternalListenerRegistry } from '@il/core';
import { ConnectionPoolError, Http2ConnectionPools } from '../src/index.js';
import { clusterYaml, clustersFrom, http2Upstream, readAll, waitFor, within } from './fixtures/tunnel-servers.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A server that answers every GET with "ok" once `release` is called for it (or at once). */
async function setup(options: { settings?: http2.Settings; clusterOptions?: Parameters<typeof clusterYaml>[2]; answer?: boolean } = {}) {
  const held: ServerHttp2Stream[] = [];
  const upstream = await http2Upstream({
    ...(options.settings === undefined ? {} : { settings: options.settings }),
    onStream: (stream) => {
      if (options.answer === false) held.push(stream);
      else {
        stream.respond({ ':status': 200 });
        stream.end('ok');
      }
    },
  });
  cleanups.push(() => upstream.close());
  const clusters = clustersFrom(clusterYaml('h2', upstream.port, options.clusterOptions));
  cleanups.push(() => clusters.manager.close());
  const pools = new Http2ConnectionPools();
  cleanups.push(() => pools.close());
  const cluster = clusters.cluster('h2');
  const host = cluster.hosts()[0];
  if (host === undefined) throw new Error('no host');
  const pool = pools.for(cluster, host);
  return { upstream, clusters, pools, pool, cluster, host, held };
}

function get(path = '/'): http2.OutgoingHttpHeaders {
  return { ':method': 'GET', ':path': path, ':scheme': 'http', ':authority': 'test' };
}

async function body(stream: ClientHttp2Stream): Promise<string> {
  return (await within(readAll(stream), 5000, 'response body')).toString();
}

describe('Http2ConnectionPool', () => {
  it('serves many streams on one session and counts them on the cluster and host', async () => {
    const { pool, upstream, clusters, host } = await setup();
    const first = await pool.request(get(), { endStream: true });
    expect(clusters.stat('cluster.h2.upstream_rq_active')).toBe(1);
    expect(host.stats.rq_active).toBe(1);
    expect(await body(first)).toBe('ok');
    await waitFor(() => host.stats.rq_active === 0, 5000, 'rq_active back to 0');
    for (let i = 0; i < 5; i++) expect(await body(await pool.request(get(), { endStream: true }))).toBe('ok');
    expect(upstream.sessions).toHaveLength(1);
    expect(pool.sessions).toBe(1);
    expect(clusters.stat('cluster.h2.upstream_rq_total')).toBe(6);
    expect(clusters.stat('cluster.h2.upstream_cx_total')).toBe(1);
    await waitFor(() => clusters.stat('cluster.h2.upstream_rq_active') === 0, 5000, 'upstream_rq_active 0');
    expect(host.stats.rq_total).toBe(6);
  });

  it('coalesces concurrent requests onto one dial', async () => {
    const { pool, upstream, clusters } = await setup();
    const streams = await Promise.all(Array.from({ length: 20 }, () => pool.request(get(), { endStream: true })));
    const bodies = await Promise.all(streams.map(body));
    expect(bodies.every((b) => b === 'ok')).toBe(true);
    expect(upstream.sessions).toHaveLength(1);
    expect(clusters.stat('cluster.h2.upstream_cx_total')).toBe(1);
    expect(clusters.stat('cluster.h2.upstream_rq_pending_total')).toBe(20);
    expect(clusters.stat('cluster.h2.upstream_rq_pending_active')).toBe(0);
  });

  it("honours the peer's MAX_CONCURRENT_STREAMS: a full session makes the pool open another", async () => {
    const { pool, upstream, held } = await setup({ settings: { maxConcurrentStreams: 2 }, answer: false });
    // The first session's SETTINGS are known before any stream goes out, so 2 + 2 + 1 streams need 3 sessions.
    const first = await pool.request(get('/1'), { endStream: true });
    const more = await Promise.all([2, 3, 4, 5].map((n) => pool.request(get(`/${n}`), { endStream: true })));
    await waitFor(() => held.length === 5, 5000, '5 streams upstream');
    expect(upstream.sessions).toHaveLength(3);
    expect(pool.sessions).toBe(3);
    const perSession = new Map<http2.Http2Session, number>();
    for (const { stream } of upstream.streams) perSession.set(stream.session as http2.Http2Session, (perSession.get(stream.session as http2.Http2Session) ?? 0) + 1);
    expect([...perSession.values()].sort()).toEqual([1, 2, 2]);
    // Once a stream ends, its slot is reused rather than a new session dialled.
    for (const stream of held) {
      stream.respond({ ':status': 200 });
      stream.end();
    }
    await Promise.all([first, ...more].map(body));
    const next = await pool.request(get('/6'), { endStream: true });
    await waitFor(() => held.length === 6, 5000, 'sixth stream');
    expect(upstream.sessions).toHaveLength(3);
    held[5]?.respond({ ':status': 200 });
    held[5]?.end();
    await body(next);
  });

  it('takes no new streams on a session that received GOAWAY; a new one is dialled, and the old one counted destroyed when it closes', async () => {
    const { pool, upstream, clusters, held } = await setup({ answer: false });
    const first = await pool.request(get('/1'), { endStream: true });
    await waitFor(() => held.length === 1, 5000, 'first stream');
    const oldSession = upstream.sessions[0] as http2.ServerHttp2Session;
    oldSession.goaway(http2.constants.NGHTTP2_NO_ERROR, 1);
    await waitFor(() => clusters.stat('cluster.h2.upstream_cx_close_notify') === 1, 5000, 'GOAWAY seen');
    const second = await pool.request(get('/2'), { endStream: true });
    await waitFor(() => held.length === 2, 5000, 'second stream');
    expect(upstream.sessions).toHaveLength(2);
    expect(held[1]?.session).not.toBe(oldSession);
    // The stream in flight on the old session completes.
    expect(clusters.stat('cluster.h2.upstream_cx_destroy')).toBe(0);
    for (const stream of held) {
      stream.respond({ ':status': 200 });
      stream.end('done');
    }
    expect(await body(first)).toBe('done');
    expect(await body(second)).toBe('done');
    await waitFor(() => clusters.stat('cluster.h2.upstream_cx_destroy') === 1, 5000, 'old session destroyed');
    expect(pool.sessions).toBe(1);
  });

  it("applies Envoy's flow-control windows by default (since 1.36: 16 MiB per stream, 24 MiB per connection)", async () => {
    const { pool, upstream, held } = await setup({ answer: false });
    await pool.request(get(), { endStream: true });
    await waitFor(() => held.length === 1, 5000, 'stream');
    const session = upstream.sessions[0] as http2.ServerHttp2Session;
    expect(session.remoteSettings.initialWindowSize).toBe(16 * 1024 * 1024);
    await waitFor(() => session.state.remoteWindowSize === 24 * 1024 * 1024, 5000, 'connection window update');
    expect(session.remoteSettings.enablePush).toBe(false);
  });

  it("applies the cluster's initial_stream_window_size and initial_connection_window_size", async () => {
    const { pool, upstream, held } = await setup({
      answer: false,
      clusterOptions: { http2Options: '{ initial_stream_window_size: 1048576, initial_connection_window_size: 4194304 }' },
    });
    await pool.request(get(), { endStream: true });
    await waitFor(() => held.length === 1, 5000, 'stream');
    const session = upstream.sessions[0] as http2.ServerHttp2Session;
    expect(session.remoteSettings.initialWindowSize).toBe(1048576);
    await waitFor(() => session.state.remoteWindowSize === 4194304, 5000, 'connection window update');
  });

  it("closes a session idle for the cluster's idle_timeout", async () => {
    const { pool, clusters } = await setup({ clusterOptions: { common: '{ idle_timeout: 0.2s }' } });
    await body(await pool.request(get(), { endStream: true }));
    expect(pool.sessions).toBe(1);
    await waitFor(() => pool.sessions === 0, 5000, 'idle session closed');
    expect(clusters.stat('cluster.h2.upstream_cx_idle_timeout')).toBe(1);
    await waitFor(() => clusters.stat('cluster.h2.upstream_cx_destroy') === 1, 5000, 'destroy counted');
    // The next request dials again.
    expect(await body(await pool.request(get(), { endStream: true }))).toBe('ok');
    expect(clusters.stat('cluster.h2.upstream_cx_total')).toBe(2);
  });

  it('retires a session after max_requests_per_connection streams', async () => {
    const { pool, upstream, clusters } = await setup({ clusterOptions: { common: '{ max_requests_per_connection: 2 }' } });
    for (let i = 0; i < 5; i++) expect(await body(await pool.request(get(), { endStream: true }))).toBe('ok');
    expect(upstream.sessions).toHaveLength(3);
    expect(clusters.stat('cluster.h2.upstream_cx_max_requests')).toBe(2);
  });

  it('rejects waiting requests with remote_connection_failure when the connection is refused', async () => {
    const { pool, upstream, clusters } = await setup();
    await upstream.close();
    const requests = [pool.request(get(), { endStream: true }), pool.request(get(), { endStream: true })];
    for (const request of requests) {
      const error = await within(request.then(() => undefined, (e: unknown) => e), 5000, 'rejection');
      expect(error).toBeInstanceOf(ConnectionPoolError);
      expect((error as ConnectionPoolError).reason).toBe('remote_connection_failure');
    }
    await waitFor(() => clusters.stat('cluster.h2.upstream_cx_connect_fail') === 1, 5000, 'connect failure counted');
    expect(clusters.stat('cluster.h2.upstream_cx_total')).toBe(1);
    expect(clusters.stat('cluster.h2.upstream_rq_pending_active')).toBe(0);
  });

  it("rejects with overflow when the cluster's connection circuit breaker is spent", async () => {
    const { pool, clusters } = await setup({
      clusterOptions: { extra: '    circuit_breakers: { thresholds: [ { max_connections: 0 } ] }\n' },
    });
    const error = await pool.request(get(), { endStream: true }).then(() => undefined, (e: unknown) => e);
    expect((error as ConnectionPoolError).reason).toBe('overflow');
    expect(clusters.stat('cluster.h2.upstream_cx_overflow')).toBe(1);
  });

  it('an aborted request leaves the queue', async () => {
    const { pool, clusters } = await setup();
    const controller = new AbortController();
    const request = pool.request(get(), { endStream: true, signal: controller.signal });
    controller.abort();
    await expect(request).rejects.toThrow(/abort/i);
    expect(clusters.stat('cluster.h2.upstream_rq_pending_active')).toBe(0);
  });

  it('dials internal-address hosts through the internal listener registry', async () => {
    const registry = new InternalListenerRegistry();
    const server = http2.createServer();
    server.on('stream', (stream) => {
      stream.respond({ ':status': 200 });
      stream.end('internal ok');
    });
    registry.listen('h2_internal', (socket) => server.emit('connection', socket));
    const clusters = clustersFrom(
      `  - name: internal
    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        explicit_http_config: { http2_protocol_options: {} }
    load_assignment:
      cluster_name: internal
      endpoints:
      - lb_endpoints:
        - endpoint: { address: { envoy_internal_address: { server_listener_name: h2_internal } } }
`,
      { registry, internalListeners: ['h2_internal'] },
    );
    cleanups.push(() => clusters.manager.close());
    const pools = new Http2ConnectionPools();
    cleanups.push(() => pools.close());
    const cluster = clusters.cluster('internal');
    const pool = pools.for(cluster, cluster.hosts()[0] as NonNullable<ReturnType<typeof cluster.hosts>[0]>);
    const responses = await Promise.all([1, 2, 3].map(() => pool.request(get(), { endStream: true })));
    expect(await Promise.all(responses.map(body))).toEqual(['internal ok', 'internal ok', 'internal ok']);
    expect(clusters.stat('cluster.internal.upstream_cx_total')).toBe(1);
    pools.close();
    await once(server.close(), 'close').catch(() => undefined);
  });
});
