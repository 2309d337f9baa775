// The tunnel upstream on its own, driven the way TcpProxy drives it (write before 'connect' is
// held, end() is the client's FIN, destroy/resetAndDestroy on downstream close), against a
// node:http2 CONNECT/POST server and a raw HTTP/1.1 server.
import { once } from 'node:events';
import http2 from 'node:http2';
import type net from 'node:net';
import { loadConfig, type TunnelingConfig } from '@il/config';
import { StreamInfo, type NetworkFilterFactoryContext, type UpstreamConnector, type UpstreamHandle } from '@il/core';
import { afterEach, describe, expect, it } from 'vitest';
import { resetStream } from '../src/codec/http2-reset.js';
import { Http2ConnectionPools, TUNNEL_RESPONSE_HEADERS_KEY, TUNNEL_RESPONSE_TRAILERS_KEY, TunnelResponseHeaderMap, createTunnelConnector } from '../src/index.js';
import { clusterYaml, clustersFrom, http2Upstream, rawUpstream, readAll, readBytes, readHead, waitFor, within } from './fixtures/tunnel-servers.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A TcpProxy's tunneling_config as @il/config loads it (defaults filled in). */
function tunnelingConfig(yaml: string): TunnelingConfig {
  const { bootstrap } = loadConfig({
    name: 'tunnel.yaml',
    text: `static_resources:
  listeners:
  - name: l
    address: { socket_address: { address: 127.0.0.1, port_value: 1 } }
    filter_chains:
    - filters:
      - name: tcp
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
          stat_prefix: t
          cluster: c
          tunneling_config:
${yaml.replace(/^/gm, '            ')}
  clusters:
  - name: c
    load_assignment: { cluster_name: c, endpoints: [ { lb_endpoints: [ { endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: 1 } } } } ] } ] }
`,
  });
  const filter = bootstrap.static_resources.listeners[0]?.filter_chains[0]?.filters[0]?.typed_config;
  if (filter === undefined || !('tunneling_config' in filter) || filter.tunneling_config === undefined) throw new Error('no tunneling_config');
  return filter.tunneling_config;
}

/** A connector on a fresh cluster at `port`, with its own pools (no runtime needed). */
function connector(port: number, yaml: string, options: { http1?: boolean } = {}) {
  const clusters = clustersFrom(clusterYaml('c', port, options));
  cleanups.push(() => clusters.manager.close());
  const pools = new Http2ConnectionPools();
  cleanups.push(() => pools.close());
  // The connector reads the context only for the shared pools, which are given here.
  const context = {} as NetworkFilterFactoryContext;
  const tunnel: UpstreamConnector = createTunnelConnector(tunnelingConfig(yaml), context, { pools });
  return { clusters, pools, cluster: clusters.cluster('c'), tunnel };
}

function streamInfo(): StreamInfo {
  const info = new StreamInfo();
  info.downstreamLocalAddress = { kind: 'ip', ip: '127.0.0.1', port: 10000 };
  info.downstreamRemoteAddress = { kind: 'ip', ip: '127.0.0.1', port: 40000 };
  return info;
}

function open(setup: ReturnType<typeof connector>, info = streamInfo()): { handle: UpstreamHandle; info: StreamInfo; events: string[] } {
  const result = setup.tunnel.connect({ cluster: setup.cluster, streamInfo: info, hops: 0 });
  if (typeof result === 'string') throw new Error(`connect failed: ${result}`);
  const events: string[] = [];
  result.stream.on('connect', () => events.push('connect'));
  result.stream.on('error', (e: Error) => events.push(`error:${e.message}`));
  result.stream.on('end', () => events.push('end'));
  result.stream.on('close', () => events.push('close'));
  cleanups.push(() => void result.stream.destroy());
  return { handle: result, info, events };
}

describe('HTTP/2 tunnels', () => {
  it('sends a classic CONNECT with the formatted authority, headers_to_add and a request id; 200 establishes it; data and END_STREAM both ways', async () => {
    const upstream = await http2Upstream();
    cleanups.push(() => upstream.close());
    const setup = connector(
      upstream.port,
      `hostname: "%DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT%:443"
headers_to_add:
- header: { key: downstream-local-ip, value: "%DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT%" }
- header: { key: x-static, value: one }
- header: { key: x-static, value: two }
request_id_extension: { typed_config: { "@type": type.googleapis.com/envoy.extensions.request_id.uuid.v3.UuidRequestIdConfig } }`,
    );
    const { handle, info, events } = open(setup);
    const { stream, headers } = await within(upstream.nextStream(), 5000, 'CONNECT stream');
    expect(headers[':method']).toBe('CONNECT');
    expect(headers[':authority']).toBe('127.0.0.1:443');
    expect(headers[':path']).toBeUndefined();
    expect(headers[':scheme']).toBeUndefined();
    expect(headers[':protocol']).toBeUndefined();
    expect(headers['downstream-local-ip']).toBe('127.0.0.1');
    expect(headers['x-static']).toBe('one, two');
    const id = headers['x-request-id'];
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(info.dynamicMetadata['envoy.filters.network.tcp_proxy']).toEqual({ tunnel_request_id: id });

    // Nothing goes upstream before the response.
    handle.stream.write('early');
    let early = 0;
    stream.on('data', (chunk: Buffer) => (early += chunk.length));
    // A PING round trip first: DATA the client had sent before answering it would be here by now.
    await within(new Promise((resolve) => stream.session?.ping(resolve)), 5000, 'the PING ack');
    // Then a silence window (it can only miss a late write on a loaded machine, never fail).
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(early).toBe(0);
    expect(events).toEqual([]);
    stream.removeAllListeners('data');

    stream.respond({ ':status': 200 });
    await within(once(handle.stream, 'connect'), 5000, "'connect'");
    expect((await readBytes(stream, 5)).toString()).toBe('early');
    handle.stream.write('hello');
    expect((await readBytes(stream, 5)).toString()).toBe('hello');
    stream.write('there!');
    expect((await readBytes(handle.stream, 6)).toString()).toBe('there!');
    expect(handle.connectionId).toBeGreaterThan(0);
    expect(handle.addresses()?.remote).toEqual({ kind: 'ip', ip: '127.0.0.1', port: upstream.port });

    // Client FIN → END_STREAM; the upstream can still send, then its END_STREAM ends the tunnel.
    handle.stream.end();
    await within(once(stream, 'end'), 5000, 'END_STREAM upstream');
    stream.end('bye');
    expect((await within(readAll(handle.stream), 5000, 'tunnel end')).toString()).toBe('bye');
    await waitFor(() => events.includes('close'), 5000, 'close');
    expect(events).toEqual(['connect', 'end', 'close']);
    expect(stream.rstCode).toBe(http2.constants.NGHTTP2_NO_ERROR);
  });

  it('POST tunnels send :method POST, :path post_path and :scheme http', async () => {
    const upstream = await http2Upstream({ onStream: (stream) => stream.respond({ ':status': 200 }) });
    cleanups.push(() => upstream.close());
    const { handle } = open(connector(upstream.port, 'hostname: host.com:443\nuse_post: true\npost_path: /tunnel'));
    const { headers } = await within(upstream.nextStream(), 5000, 'POST stream');
    expect(headers[':method']).toBe('POST');
    expect(headers[':path']).toBe('/tunnel');
    expect(headers[':scheme']).toBe('http');
    expect(headers[':authority']).toBe('host.com:443');
    await within(once(handle.stream, 'connect'), 5000, "'connect'");
  });

  it('a non-200 response fails the tunnel before connect, resets the stream, and is still propagated', async () => {
    const upstream = await http2Upstream({ onStream: (stream) => stream.respond({ ':status': 503, 'x-why': 'busy' }) });
    cleanups.push(() => upstream.close());
    const { handle, info, events } = open(connector(upstream.port, 'hostname: host.com:443\npropagate_response_headers: true'));
    handle.stream.write('must not arrive');
    const { stream } = await within(upstream.nextStream(), 5000, 'stream');
    let received = 0;
    stream.on('data', (chunk: Buffer) => (received += chunk.length));
    await within(once(stream, 'close'), 5000, 'upstream stream reset');
    expect(stream.rstCode).toBe(http2.constants.NGHTTP2_CANCEL);
    await waitFor(() => events.includes('close'), 5000, 'tunnel close');
    expect(events).toEqual(['error:tunnel refused: response status 503', 'close']);
    expect(received).toBe(0);
    const propagated = info.filterState.get(TUNNEL_RESPONSE_HEADERS_KEY);
    expect(propagated).toBeInstanceOf(TunnelResponseHeaderMap);
    expect((propagated as TunnelResponseHeaderMap).get(':status')).toBe('503');
    expect((propagated as TunnelResponseHeaderMap).getField('x-why')).toBe('busy');
  });

  it('200 on headers that end the stream is a failure', async () => {
    const upstream = await http2Upstream({ onStream: (stream) => stream.respond({ ':status': 200 }, { endStream: true }) });
    cleanups.push(() => upstream.close());
    const { events } = open(connector(upstream.port, 'hostname: host.com:443'));
    await waitFor(() => events.includes('close'), 5000, 'tunnel close');
    expect(events[0]).toMatch(/^error:tunnel refused: response headers ended the stream/);
    expect(events).not.toContain('connect');
  });

  it('1xx headers are ignored; trailers are propagated and end the tunnel', async () => {
    const upstream = await http2Upstream({
      onStream: (stream) => {
        stream.additionalHeaders({ ':status': 100 });
        stream.respond({ ':status': 200 }, { waitForTrailers: true });
        stream.on('wantTrailers', () => stream.sendTrailers({ 'x-trailer': 'done' }));
        stream.end('payload');
      },
    });
    cleanups.push(() => upstream.close());
    const { handle, info } = open(connector(upstream.port, 'hostname: host.com:443\npropagate_response_trailers: true'));
    expect((await within(readAll(handle.stream), 5000, 'payload then FIN')).toString()).toBe('payload');
    const trailers = info.filterState.get(TUNNEL_RESPONSE_TRAILERS_KEY) as TunnelResponseHeaderMap;
    expect(trailers.get('x-trailer')).toBe('done');
    expect(JSON.parse(JSON.stringify(trailers))).toEqual({ headers: [{ key: 'x-trailer', value: 'done' }] });
  });

  it("an upstream RST_STREAM after connect fails the tunnel with ECONNRESET (TcpProxy resets its client), after what was read", async () => {
    const upstream = await http2Upstream();
    cleanups.push(() => upstream.close());
    const { handle, events } = open(connector(upstream.port, 'hostname: host.com:443'));
    const { stream } = await within(upstream.nextStream(), 5000, 'stream');
    stream.respond({ ':status': 200 });
    stream.write('last words');
    await within(once(handle.stream, 'connect'), 5000, "'connect'");
    expect((await readBytes(handle.stream, 10)).toString()).toBe('last words');
    resetStream(stream, http2.constants.NGHTTP2_INTERNAL_ERROR);
    await waitFor(() => events.includes('close'), 5000, 'tunnel close');
    expect(events).toEqual(['connect', 'error:the tunnel was reset by the upstream', 'close']);
  });

  it('a lost connection takes the tunnel with it: what arrived is read, then the readable side ends (no reset)', async () => {
    const upstream = await http2Upstream();
    cleanups.push(() => upstream.close());
    const { handle, events } = open(connector(upstream.port, 'hostname: host.com:443'));
    const { stream } = await within(upstream.nextStream(), 5000, 'stream');
    stream.respond({ ':status': 200 });
    stream.write('last words');
    await within(once(handle.stream, 'connect'), 5000, "'connect'");
    expect((await readBytes(handle.stream, 10)).toString()).toBe('last words');
    (stream.session as http2.ServerHttp2Session).destroy();
    await waitFor(() => events.includes('close'), 5000, 'tunnel close');
    expect(events).toEqual(['connect', 'end', 'close']);
  });

  it('resetAndDestroy resets the upstream stream; destroy while waiting for the pool cancels the request', async () => {
    const upstream = await http2Upstream({ onStream: (stream) => stream.respond({ ':status': 200 }) });
    cleanups.push(() => upstream.close());
    const setup = connector(upstream.port, 'hostname: host.com:443');
    const { handle } = open(setup);
    const { stream } = await within(upstream.nextStream(), 5000, 'stream');
    await within(once(handle.stream, 'connect'), 5000, "'connect'");
    handle.stream.resetAndDestroy();
    await within(once(stream, 'close'), 5000, 'upstream reset');
    expect(stream.rstCode).toBe(http2.constants.NGHTTP2_CANCEL);

    // A tunnel destroyed while its pool is still dialling never opens a stream.
    const fresh = connector(upstream.port, 'hostname: host.com:443');
    const second = open(fresh);
    second.handle.stream.destroy();
    await waitFor(() => upstream.sessions.length === 2, 5000, 'second session');
    // A PING round trip on the new session: a stream the client had opened before answering it
    // would have arrived first. Then a silence window (it can only miss a late stream, never fail).
    await within(new Promise((resolve) => upstream.sessions[1]?.ping(resolve)), 5000, 'the PING ack on the second session');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(upstream.streams).toHaveLength(1);
    expect(fresh.clusters.stat('cluster.c.upstream_rq_pending_active')).toBe(0);
  });
});

describe('HTTP/1.1 tunnels', () => {
  async function h1(yaml: string) {
    // Without half-open, the server's connection closes when ours does (HTTP/1.1 has no half-close).
    const upstream = await rawUpstream(false);
    cleanups.push(() => upstream.close());
    const setup = connector(upstream.port, yaml, { http1: true });
    return { upstream, setup };
  }

  it("writes Envoy's CONNECT head; a 200 whose payload follows in the same packet establishes it", async () => {
    const { upstream, setup } = await h1('hostname: host.com:443\nheaders_to_add: [ { header: { key: x-a, value: b } } ]');
    const { handle, events } = open(setup);
    handle.stream.write('early');
    const socket = await within(upstream.next(), 5000, 'connection');
    const { head } = await within(readHead(socket), 5000, 'request head');
    expect(`${head}\r\n\r\n`).toBe('CONNECT host.com:443 HTTP/1.1\r\nhost: host.com:443\r\nx-a: b\r\n\r\n');
    socket.write('HTTP/1.1 200 Connection established\r\n\r\nfirst');
    expect((await readBytes(handle.stream, 5)).toString()).toBe('first');
    expect(events[0]).toBe('connect');
    expect((await readBytes(socket, 5)).toString()).toBe('early');
    socket.write('second');
    expect((await readBytes(handle.stream, 6)).toString()).toBe('second');
    // The client's FIN closes the whole connection once the bytes before it are written.
    handle.stream.end('tail');
    expect((await within(readAll(socket), 5000, 'upstream EOF')).toString()).toBe('tail');
    await within(once(socket, 'close'), 5000, 'upstream closed');
    await waitFor(() => events.includes('close'), 5000, 'tunnel close');
  });

  it('ignores 1xx heads and the Content-Length of a 2xx: the payload stays raw', async () => {
    const { upstream, setup } = await h1('hostname: host.com:443');
    const { handle } = open(setup);
    const socket = await within(upstream.next(), 5000, 'connection');
    await readHead(socket);
    socket.write('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 226 IM Used\r\ncontent-length: 10\r\n\r\n');
    await within(once(handle.stream, 'connect'), 5000, "'connect'");
    const big = Buffer.alloc(100, 'x');
    socket.end(big);
    expect((await within(readAll(handle.stream), 5000, 'payload')).length).toBe(100);
  });

  it('a non-2xx response fails the tunnel and closes its connection', async () => {
    const { upstream, setup } = await h1('hostname: host.com:443\npropagate_response_headers: true');
    const { events, info } = open(setup);
    const socket = await within(upstream.next(), 5000, 'connection');
    await readHead(socket);
    socket.write('HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n');
    await within(once(socket, 'close'), 5000, 'connection closed');
    await waitFor(() => events.includes('close'), 5000, 'tunnel close');
    expect(events).toEqual(['error:tunnel refused: response status 503', 'close']);
    expect((info.filterState.get(TUNNEL_RESPONSE_HEADERS_KEY) as TunnelResponseHeaderMap).get(':status')).toBe('503');
  });

  it('an upstream close before the response fails the tunnel', async () => {
    const { upstream, setup } = await h1('hostname: host.com:443');
    const { events } = open(setup);
    const socket = await within(upstream.next(), 5000, 'connection');
    await readHead(socket);
    socket.end();
    await waitFor(() => events.includes('close'), 5000, 'tunnel close');
    expect(events).not.toContain('connect');
    expect(events[0]).toMatch(/^error:/);
  });

  it('POST tunnels frame the request body in chunks and end with the last chunk', async () => {
    const { upstream, setup } = await h1('hostname: host.com:443\nuse_post: true\npost_path: /p');
    const { handle } = open(setup);
    const socket: net.Socket = await within(upstream.next(), 5000, 'connection');
    const { head } = await readHead(socket);
    expect(head).toBe('POST /p HTTP/1.1\r\nhost: host.com:443\r\ntransfer-encoding: chunked');
    socket.write('HTTP/1.1 200 OK\r\n\r\n');
    await within(once(handle.stream, 'connect'), 5000, "'connect'");
    handle.stream.write('hello');
    handle.stream.end(', world!');
    expect((await within(readAll(socket), 5000, 'body')).toString()).toBe('5\r\nhello\r\n8\r\n, world!\r\n0\r\n\r\n');
  });
});
