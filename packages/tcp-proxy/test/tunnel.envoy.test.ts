// Envoy's TcpTunnelingIntegrationTest cases (envoy-behavior.md §7.7), each named after the Envoy
// test: a TCP client -> TcpProxy with tunneling_config (run by core's Runtime) -> a fake HTTP/2
// or HTTP/1.1 upstream written here, which asserts what arrives.
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../../test-support/ports.js';
import { resetStream } from '../../http-connect/src/codec/http2-reset.js';
import {
  http2Upstream,
  rawUpstream,
  readAll,
  readBytes,
  readHead,
  waitFor,
  within,
  type Http2Upstream,
  type RawUpstream,
} from '../../http-connect/test/fixtures/tunnel-servers.js';
import { startProxy, type RunningProxy } from './harness.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

type Protocol = 'http2' | 'http1';

interface TunnelOptions {
  /** Extra tunneling_config fields (YAML lines). */
  tunneling?: string;
  /** Extra TcpProxy fields (YAML lines). */
  tcpProxy?: string;
  /** per_connection_buffer_limit_bytes on the listener and the cluster. */
  bufferLimit?: number;
}

/** TcpProxy on a free port tunnelling to cluster_0 at `upstreamPort` over `protocol`. */
async function tunnelProxy(protocol: Protocol, upstreamPort: number, options: TunnelOptions = {}): Promise<{ proxy: RunningProxy; port: number }> {
  const port = await freePort();
  const indent = (text: string | undefined, spaces: number): string => (text === undefined ? '' : `${text.replace(/^/gm, ' '.repeat(spaces))}\n`);
  const limit = options.bufferLimit === undefined ? '' : `per_connection_buffer_limit_bytes: ${options.bufferLimit}`;
  const text = `static_resources:
  listeners:
  - name: tcp_proxy
    address: { socket_address: { address: 127.0.0.1, port_value: ${port} } }
${indent(limit, 4)}    filter_chains:
    - filters:
      - name: envoy.filters.network.tcp_proxy
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
          stat_prefix: tcp_stats
          cluster: cluster_0
${indent(options.tcpProxy, 10)}          tunneling_config:
            hostname: foo.lyft.com:80
${indent(options.tunneling, 12)}  clusters:
  - name: cluster_0
    connect_timeout: 2s
${indent(limit, 4)}${
    protocol === 'http2'
      ? `    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        explicit_http_config: { http2_protocol_options: {} }
`
      : ''
  }    load_assignment:
      cluster_name: cluster_0
      endpoints:
      - lb_endpoints:
        - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${upstreamPort} } } }
`;
  const started = await startProxy(text, { remap: false });
  // Closed by the test (to flush access logs) or by the cleanup, whichever comes first.
  let closing: Promise<void> | undefined;
  const proxy: RunningProxy = { ...started, close: () => (closing ??= started.close()) };
  cleanups.push(() => proxy.close());
  return { proxy, port };
}

async function h2(options: TunnelOptions & { onStream?: (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => void } = {}): Promise<{ upstream: Http2Upstream; proxy: RunningProxy; port: number }> {
  const upstream = await http2Upstream(options.onStream === undefined ? {} : { onStream: options.onStream });
  cleanups.push(() => upstream.close());
  return { upstream, ...(await tunnelProxy('http2', upstream.port, options)) };
}

async function h1(options: TunnelOptions = {}): Promise<{ upstream: RawUpstream; proxy: RunningProxy; port: number }> {
  const upstream = await rawUpstream(false);
  cleanups.push(() => upstream.close());
  return { upstream, ...(await tunnelProxy('http1', upstream.port, options)) };
}

function client(port: number, allowHalfOpen = true): net.Socket {
  const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen });
  socket.on('error', () => undefined);
  // A paused socket reports EOF as soon as it arrives, so the events are caught from the start.
  // Plain listeners, not events.once: a reset client emits 'error', which would reject them.
  clientEvents.set(socket, {
    ended: new Promise((resolve) => socket.once('end', () => resolve())),
    closed: new Promise((resolve) => socket.once('close', () => resolve())),
  });
  cleanups.push(() => void socket.destroy());
  return socket;
}

const clientEvents = new WeakMap<net.Socket, { ended: Promise<void>; closed: Promise<void> }>();

/** The client's FIN (its 'end'), however early it came. */
function ended(socket: net.Socket): Promise<void> {
  return clientEvents.get(socket)?.ended ?? once(socket, 'end').then(() => undefined);
}

/** The client's 'close', however early it came. */
function closed(socket: net.Socket): Promise<void> {
  return clientEvents.get(socket)?.closed ?? once(socket, 'close').then(() => undefined);
}

/**
 * A silence window: resolves when nothing arrives on `stream` for `ms`; fails if something does.
 * A loaded machine can only make it miss late data (a false pass), never fail a correct proxy;
 * callers open it after an event that gave the proxy its chance to send (the CONNECT arriving).
 */
async function expectSilence(stream: Readable, ms: number): Promise<void> {
  let received = 0;
  const onData = (chunk: Buffer): void => {
    received += chunk.length;
  };
  stream.on('data', onData);
  await new Promise((resolve) => setTimeout(resolve, ms));
  stream.off('data', onData);
  stream.pause();
  expect(received).toBe(0);
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Writes `data` in 64 KiB pieces, honouring backpressure, then ends unless told not to. */
async function writeAll(stream: Writable, data: Buffer, end = true): Promise<void> {
  for (let offset = 0; offset < data.length; offset += 65536) {
    if (!stream.write(data.subarray(offset, offset + 65536))) await once(stream, 'drain');
  }
  if (end) stream.end();
}

const accepted200 = (stream: http2.ServerHttp2Stream): void => stream.respond({ ':status': 200 });

describe('TcpTunnelingIntegrationTest (HTTP/2 upstream)', () => {
  it('Basic', async () => {
    const { upstream, port } = await h2();
    const tcp = client(port);
    const { stream, headers } = await within(upstream.nextStream(), 5000, 'CONNECT');
    expect(headers[':method']).toBe('CONNECT');
    expect(headers[':authority']).toBe('foo.lyft.com:80');
    expect(headers[':path']).toBeUndefined();
    expect(headers[':protocol']).toBeUndefined();
    stream.respond({ ':status': 200 });
    tcp.write('hello');
    expect((await readBytes(stream, 5)).toString()).toBe('hello');
    stream.write(Buffer.alloc(12, 'a'));
    expect((await readBytes(tcp, 12)).length).toBe(12);
    // Client FIN is a half-close: the data before it and then END_STREAM arrive.
    tcp.end('hello');
    expect((await within(readAll(stream), 5000, 'data then END_STREAM')).toString()).toBe('hello');
    // END_STREAM from the upstream closes the connection fully.
    tcp.resume();
    stream.end();
    await within(closed(tcp), 5000, 'client close');
  });

  it('BasicUsePost', async () => {
    const { upstream, port } = await h2({ tunneling: 'use_post: true' });
    const tcp = client(port);
    const { stream, headers } = await within(upstream.nextStream(), 5000, 'POST');
    expect(headers[':method']).toBe('POST');
    expect(headers[':path']).toBe('/');
    expect(headers[':authority']).toBe('foo.lyft.com:80');
    stream.respond({ ':status': 200 });
    tcp.write('hello');
    expect((await readBytes(stream, 5)).toString()).toBe('hello');
    stream.write('world');
    expect((await readBytes(tcp, 5)).toString()).toBe('world');
  });

  it('FlowControlOnAndGiantBody: 10 MiB each way with 1 KiB buffer limits', async () => {
    const { upstream, port, proxy } = await h2({ bufferLimit: 1024 });
    const up = randomBytes(10 * 1024 * 1024);
    const down = randomBytes(10 * 1024 * 1024);
    const tcp = client(port);
    const { stream } = await within(upstream.nextStream(), 5000, 'CONNECT');
    stream.respond({ ':status': 200 });
    const started = performance.now();
    const [atUpstream, atClient] = await within(
      Promise.all([readAll(stream), readAll(tcp), writeAll(tcp, up), writeAll(stream, down)]),
      60_000,
      '10 MiB each way',
    );
    const ms = performance.now() - started;
    expect(sha256(atUpstream)).toBe(sha256(up));
    expect(sha256(atClient)).toBe(sha256(down));
    console.log(`FlowControlOnAndGiantBody (HTTP/2): 2 x 10 MiB in ${ms.toFixed(0)} ms`);
    expect(proxy.stat('tcp.tcp_stats.downstream_flow_control_paused_reading_total')).toBeGreaterThan(0);
  });

  it('SendDataUpstreamAfterUpstreamClose', async () => {
    const { upstream, port } = await h2();
    const tcp = client(port);
    const { stream } = await within(upstream.nextStream(), 5000, 'CONNECT');
    stream.respond({ ':status': 200 });
    tcp.write('up');
    await readBytes(stream, 2);
    // Upstream END_STREAM half-closes the client; the client can still send.
    tcp.resume();
    stream.end();
    await within(ended(tcp), 5000, 'client half-close');
    tcp.end('hello');
    expect((await within(readAll(stream), 5000, 'data then END_STREAM')).toString()).toBe('hello');
  });

  it('InvalidResponseHeaders', async () => {
    const { upstream, port } = await h2();
    const tcp = client(port);
    const { stream } = await within(upstream.nextStream(), 5000, 'CONNECT');
    stream.respond({ ':status': 503 });
    await within(once(stream, 'close'), 5000, 'upstream reset');
    expect(stream.rstCode).not.toBe(http2.constants.NGHTTP2_NO_ERROR);
    // The client cannot tell the tunnel is gone until it sees the FIN.
    tcp.resume();
    await within(ended(tcp), 5000, 'client FIN');
  });

  it('CopyValidResponseHeaders', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'il-tunnel-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const { upstream, port, proxy } = await h2({ tunneling: 'propagate_response_headers: true', tcpProxy: accessLog(dir) });
    const tcp = client(port);
    const { stream } = await within(upstream.nextStream(), 5000, 'CONNECT');
    stream.respond({ ':status': 200, 'test-header': 'value' });
    tcp.write('x');
    await readBytes(stream, 1);
    tcp.destroy();
    await closed(tcp);
    await waitFor(() => proxy.stat('tcp.tcp_stats.downstream_cx_total') === 1, 5000, 'connection counted');
    const log = await accessLogLine(proxy, dir);
    expect(log).toContain('{"key":"test-header","value":"value"}');
    expect(log).toContain('{"key":":status","value":"200"}');
  });

  it('CopyInvalidResponseHeadersWithRetry', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'il-tunnel-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const { upstream, port, proxy } = await h2({
      tunneling: 'propagate_response_headers: true',
      tcpProxy: `max_connect_attempts: 2\n${accessLog(dir)}`,
      onStream: (stream) => stream.respond({ ':status': 503, 'test-header': 'value' }),
    });
    const tcp = client(port);
    tcp.resume();
    await within(ended(tcp), 5000, 'client FIN after the last attempt');
    expect(upstream.streams).toHaveLength(2);
    expect(proxy.stat('cluster.cluster_0.upstream_cx_connect_attempts_exceeded')).toBe(1);
    const log = await accessLogLine(proxy, dir);
    expect(log).toContain('{"key":":status","value":"503"}');
    expect(log).toContain('{"key":"test-header","value":"value"}');
    expect(log).toMatch(/ UF,URX$/);
  });

  it('CloseUpstreamFirst', async () => {
    const { upstream, port } = await h2();
    const tcp = client(port);
    const { stream } = await within(upstream.nextStream(), 5000, 'CONNECT');
    stream.respond({ ':status': 200 });
    tcp.write('hello');
    await readBytes(stream, 5);
    // Data with END_STREAM: the client gets the data, then the half-close.
    const received = readAll(tcp);
    stream.end(Buffer.alloc(12, 'b'));
    expect((await within(received, 5000, 'data then FIN')).length).toBe(12);
    tcp.write('hello');
    expect((await readBytes(stream, 5)).toString()).toBe('hello');
    tcp.end('hello');
    expect((await within(readAll(stream), 5000, 'data then END_STREAM')).toString()).toBe('hello');
  });

  it('ResetStreamTest: the upstream RST_STREAM resets the client connection (a TCP RST, Envoy 1.38+)', async () => {
    const { upstream, port } = await h2();
    const tcp = client(port, false);
    const clientError = new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
      tcp.once('error', resolve);
      tcp.once('end', () => resolve(undefined));
    });
    const { stream } = await within(upstream.nextStream(), 5000, 'CONNECT');
    stream.respond({ ':status': 200 });
    tcp.write('hello');
    await readBytes(stream, 5);
    tcp.resume();
    // RST_STREAM alone (node's close() would send END_STREAM before it: a half-close, then the reset).
    resetStream(stream, http2.constants.NGHTTP2_INTERNAL_ERROR);
    expect((await within(clientError, 5000, 'the client connection to end'))?.code).toBe('ECONNRESET');
    await within(closed(tcp), 5000, 'client disconnected');
  });

  it.each([
    ['CONNECT', ''],
    ['POST', 'use_post: true'],
  ])('DownstreamRstPropagation (%s): a client RST resets the tunnel stream with CANCEL, not END_STREAM', async (_method, tunneling) => {
    const { upstream, port } = await h2({ tunneling });
    const tcp = client(port, false);
    const { stream } = await within(upstream.nextStream(), 5000, 'tunnel stream');
    stream.respond({ ':status': 200 });
    tcp.write('hello');
    expect((await readBytes(stream, 5)).toString()).toBe('hello');
    // node:http2 reports a peer's RST_STREAM as 'aborted' (and then ends the readable side); an
    // END_STREAM sent before it shows up as an 'end' ahead of 'aborted'.
    let aborted = false;
    let endStream = false;
    stream.once('aborted', () => (aborted = true));
    stream.once('end', () => (endStream = !aborted));
    stream.resume();
    const streamClosed = once(stream, 'close');
    tcp.resetAndDestroy();
    await within(streamClosed, 5000, 'the tunnel stream to close');
    expect(stream.rstCode).toBe(http2.constants.NGHTTP2_CANCEL);
    expect(aborted).toBe(true);
    expect(endStream).toBe(false);
  });

  it('ConnectionReuse', async () => {
    const { upstream, port, proxy } = await h2({ onStream: accepted200 });
    const first = client(port);
    first.write('one');
    const a = await within(upstream.nextStream(), 5000, 'first CONNECT');
    expect((await readBytes(a.stream, 3)).toString()).toBe('one');
    const second = client(port);
    second.write('two');
    const b = await within(upstream.nextStream(), 5000, 'second CONNECT');
    expect((await readBytes(b.stream, 3)).toString()).toBe('two');
    const session = a.stream.session;
    expect(b.stream.session === session).toBe(true);
    expect(upstream.sessions).toHaveLength(1);
    expect(proxy.stat('cluster.cluster_0.upstream_cx_total')).toBe(1);
    expect(proxy.stat('cluster.cluster_0.upstream_rq_total')).toBe(2);
    expect(proxy.stat('cluster.cluster_0.upstream_rq_active')).toBe(2);
    // The first tunnel ends both ways; a new one is still a stream of the same connection.
    first.resume();
    first.end();
    await within(once(a.stream, 'end'), 5000, 'END_STREAM of the first tunnel');
    a.stream.end();
    await waitFor(() => proxy.stat('cluster.cluster_0.upstream_rq_active') === 1, 5000, 'first stream closed');
    client(port).write('three');
    const c = await within(upstream.nextStream(), 5000, 'third CONNECT');
    expect((await readBytes(c.stream, 5)).toString()).toBe('three');
    expect(c.stream.session === session).toBe(true);
    expect(proxy.stat('cluster.cluster_0.upstream_cx_total')).toBe(1);
  });

  it('Goaway', async () => {
    const { upstream, port, proxy } = await h2({ onStream: accepted200 });
    const first = client(port);
    first.write('one');
    const a = await within(upstream.nextStream(), 5000, 'first CONNECT');
    await readBytes(a.stream, 3);
    const oldSession = a.stream.session;
    (a.stream.session as http2.ServerHttp2Session).goaway(http2.constants.NGHTTP2_NO_ERROR, 1);
    await waitFor(() => proxy.stat('cluster.cluster_0.upstream_cx_close_notify') === 1, 5000, 'GOAWAY received');
    // The tunnel in flight finishes; then the old connection closes.
    first.resume();
    first.end();
    await within(once(a.stream, 'end'), 5000, 'END_STREAM of the first tunnel');
    a.stream.end();
    await waitFor(() => proxy.stat('cluster.cluster_0.upstream_cx_destroy') === 1, 5000, 'old connection destroyed');
    const second = client(port);
    second.write('two');
    const b = await within(upstream.nextStream(), 5000, 'second CONNECT');
    expect((await readBytes(b.stream, 3)).toString()).toBe('two');
    expect(b.stream.session === oldSession).toBe(false);
    expect(proxy.stat('cluster.cluster_0.upstream_cx_total')).toBe(2);
  });

  it('DeferTransmitDataUntilSuccessConnectResponseIsReceived', async () => {
    const { upstream, port } = await h2();
    const tcp = client(port);
    tcp.write('hello');
    const { stream } = await within(upstream.nextStream(), 5000, 'CONNECT');
    await expectSilence(stream, 200);
    stream.respond({ ':status': 200 });
    expect((await readBytes(stream, 5)).toString()).toBe('hello');
  });

  it('NoDataTransmittedIfConnectFailureResponseIsReceived', async () => {
    const { upstream, port } = await h2();
    const tcp = client(port);
    tcp.write('hello');
    const { stream } = await within(upstream.nextStream(), 5000, 'CONNECT');
    let received = 0;
    stream.on('data', (chunk: Buffer) => (received += chunk.length));
    stream.respond({ ':status': 503 });
    await within(once(stream, 'close'), 5000, 'upstream reset');
    expect(stream.rstCode).not.toBe(http2.constants.NGHTTP2_NO_ERROR);
    tcp.resume();
    await within(ended(tcp), 5000, 'client FIN');
    expect(received).toBe(0);
  });

  // il's case (the FIN was lost before): a client that half-closes while the CONNECT is pending.
  it('DownstreamFinBeforeConnectResponse: the FIN reaches the upstream as END_STREAM once the tunnel is up, and the echo still comes back', async () => {
    const { upstream, port, proxy } = await h2();
    const tcp = client(port);
    // Connect and FIN at once, nothing sent: the FIN reaches the proxy before its TcpProxy is up,
    // and a paused net.Socket reports it as 'end' right away.
    tcp.once('connect', () => tcp.end());
    const { stream } = await within(upstream.nextStream(), 5000, 'CONNECT');
    stream.respond({ ':status': 200 });
    expect((await within(readAll(stream), 5000, 'END_STREAM upstream')).length).toBe(0);
    stream.end('bye');
    tcp.resume();
    await within(closed(tcp), 5000, 'the client connection closed after the echo');
    await waitFor(() => proxy.stat('cluster.cluster_0.upstream_rq_active') === 0, 5000, 'the stream released');
    expect(proxy.stat('tcp.tcp_stats.downstream_cx_total')).toBe(1);
  });

  it('UpstreamDisconnectBeforeResponseReceived', async () => {
    const { upstream, port } = await h2();
    const tcp = client(port);
    const { stream } = await within(upstream.nextStream(), 5000, 'CONNECT');
    (stream.session as http2.ServerHttp2Session).destroy();
    tcp.resume();
    await within(ended(tcp), 5000, 'client FIN');
  });

  it('TestIdletimeoutWithLargeOutstandingData', async () => {
    const { upstream, port, proxy } = await h2({ tcpProxy: 'idle_timeout: 0.5s', bufferLimit: 1024 });
    const tcp = client(port, false);
    const { stream } = await within(upstream.nextStream(), 5000, 'CONNECT');
    stream.respond({ ':status': 200 });
    // 16 KiB each way that nobody reads.
    tcp.write(Buffer.alloc(16 * 1024, 'c'));
    stream.write(Buffer.alloc(16 * 1024, 'd'));
    tcp.resume();
    const started = Date.now();
    const upstreamClosed = once(stream, 'close');
    await within(closed(tcp), 5000, 'client disconnected');
    await within(upstreamClosed, 5000, 'upstream reset');
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    expect(stream.rstCode).not.toBe(http2.constants.NGHTTP2_NO_ERROR);
    expect(proxy.stat('tcp.tcp_stats.idle_timeout')).toBe(1);
  });
});

describe('TcpTunnelingIntegrationTest (HTTP/1.1 upstream)', () => {
  /** The next upstream connection, its CONNECT/POST head read, answered with `response`. */
  async function accept(upstream: RawUpstream, response = 'HTTP/1.1 200 OK\r\n\r\n'): Promise<{ socket: net.Socket; head: string }> {
    const socket = await within(upstream.next(), 5000, 'upstream connection');
    const { head } = await within(readHead(socket), 5000, 'request head');
    if (response !== '') socket.write(response);
    return { socket, head };
  }

  it('Basic', async () => {
    const { upstream, port } = await h1();
    const tcp = client(port);
    const { socket, head } = await accept(upstream);
    expect(head).toBe('CONNECT foo.lyft.com:80 HTTP/1.1\r\nhost: foo.lyft.com:80');
    tcp.write('hello');
    expect((await readBytes(socket, 5)).toString()).toBe('hello');
    socket.write(Buffer.alloc(12, 'a'));
    expect((await readBytes(tcp, 12)).length).toBe(12);
    // HTTP/1.1 has no half-close: the client's FIN disconnects the upstream after its data.
    tcp.end('hello');
    expect((await within(readAll(socket), 5000, 'data then disconnect')).toString()).toBe('hello');
    await within(once(socket, 'close'), 5000, 'upstream disconnected');
    tcp.resume();
    await within(closed(tcp), 5000, 'client closed');
  });

  it('BasicUsePost', async () => {
    const { upstream, port } = await h1({ tunneling: 'use_post: true' });
    const tcp = client(port);
    const { socket, head } = await accept(upstream);
    expect(head).toBe('POST / HTTP/1.1\r\nhost: foo.lyft.com:80\r\ntransfer-encoding: chunked');
    tcp.write('hello');
    expect((await readBytes(socket, 10)).toString()).toBe('5\r\nhello\r\n');
    socket.write('world');
    expect((await readBytes(tcp, 5)).toString()).toBe('world');
  });

  it('FlowControlOnAndGiantBody: 10 MiB each way with 1 KiB buffer limits', async () => {
    const { upstream, port } = await h1({ bufferLimit: 1024 });
    const up = randomBytes(10 * 1024 * 1024);
    const down = randomBytes(10 * 1024 * 1024);
    const tcp = client(port);
    const { socket } = await accept(upstream);
    const started = performance.now();
    // No FIN before everything arrived: over HTTP/1.1 it would close the whole tunnel.
    const [atUpstream, atClient] = await within(
      Promise.all([readBytes(socket, up.length), readBytes(tcp, down.length), writeAll(tcp, up, false), writeAll(socket, down, false)]),
      60_000,
      '10 MiB each way',
    );
    const ms = performance.now() - started;
    expect(sha256(atUpstream)).toBe(sha256(up));
    expect(sha256(atClient)).toBe(sha256(down));
    console.log(`FlowControlOnAndGiantBody (HTTP/1.1): 2 x 10 MiB in ${ms.toFixed(0)} ms`);
  });

  it('InvalidResponseHeaders', async () => {
    const { upstream, port } = await h1();
    const tcp = client(port);
    const { socket } = await accept(upstream, 'HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n');
    await within(once(socket, 'close'), 5000, 'upstream disconnected');
    tcp.resume();
    await within(ended(tcp), 5000, 'client FIN');
  });

  it('CloseUpstreamFirst', async () => {
    const { upstream, port } = await h1();
    const tcp = client(port);
    const { socket } = await accept(upstream);
    tcp.write('hello');
    await readBytes(socket, 5);
    const received = readAll(tcp);
    socket.end(Buffer.alloc(12, 'b'));
    expect((await within(received, 5000, 'data then FIN')).length).toBe(12);
  });

  it('H1NoConnectionReuse', async () => {
    const { upstream, port, proxy } = await h1();
    const first = client(port);
    const a = await accept(upstream);
    first.write('one');
    await readBytes(a.socket, 3);
    first.end();
    await within(once(a.socket, 'close'), 5000, 'first upstream connection closed');
    const second = client(port);
    const b = await accept(upstream);
    second.write('two');
    expect((await readBytes(b.socket, 3)).toString()).toBe('two');
    expect(upstream.sockets).toHaveLength(2);
    expect(proxy.stat('cluster.cluster_0.upstream_cx_total')).toBe(2);
  });

  it('2xxStatusCodeValidHttp1', async () => {
    const { upstream, port } = await h1();
    const tcp = client(port);
    const { socket } = await accept(upstream, 'HTTP/1.1 202 Accepted\r\n\r\n');
    tcp.write('hello');
    expect((await readBytes(socket, 5)).toString()).toBe('hello');
    socket.write('world');
    expect((await readBytes(tcp, 5)).toString()).toBe('world');
  });

  it('ContentLengthHeaderIgnoredHttp1', async () => {
    const { upstream, port } = await h1();
    const tcp = client(port);
    const { socket } = await accept(upstream, 'HTTP/1.1 226 IM Used\r\ncontent-length: 10\r\n\r\n');
    socket.write(Buffer.alloc(100, 'e'));
    expect((await readBytes(tcp, 100)).length).toBe(100);
    tcp.write('hello');
    expect((await readBytes(socket, 5)).toString()).toBe('hello');
  });

  it('TransferEncodingHeaderIgnoredHttp1', async () => {
    const { upstream, port } = await h1();
    const tcp = client(port);
    const { socket, head } = await accept(upstream, 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n');
    expect(head.startsWith('CONNECT foo.lyft.com:80 HTTP/1.1')).toBe(true);
    socket.write('raw, not a chunk');
    expect((await readBytes(tcp, 16)).toString()).toBe('raw, not a chunk');
  });

  it('DeferTransmitDataUntilSuccessConnectResponseIsReceived', async () => {
    const { upstream, port } = await h1();
    const tcp = client(port);
    tcp.write('hello');
    const { socket } = await accept(upstream, '');
    await expectSilence(socket, 200);
    socket.write('HTTP/1.1 200 OK\r\n\r\n');
    expect((await readBytes(socket, 5)).toString()).toBe('hello');
  });

  it('NoDataTransmittedIfConnectFailureResponseIsReceived', async () => {
    const { upstream, port } = await h1();
    const tcp = client(port);
    tcp.write('hello');
    const { socket } = await accept(upstream, '');
    let received = 0;
    socket.on('data', (chunk: Buffer) => (received += chunk.length));
    socket.write('HTTP/1.1 503 Service Unavailable\r\n\r\n');
    await within(once(socket, 'close'), 5000, 'upstream disconnected');
    tcp.resume();
    await within(ended(tcp), 5000, 'client FIN');
    expect(received).toBe(0);
  });

  it('DownstreamRstPropagation: a client RST resets the tunnel connection (no FIN)', async () => {
    const { upstream, port } = await h1();
    const tcp = client(port, false);
    const { socket } = await accept(upstream);
    tcp.write('hello');
    expect((await readBytes(socket, 5)).toString()).toBe('hello');
    const upstreamError = new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
      socket.once('error', resolve);
      socket.once('end', () => resolve(undefined));
    });
    socket.resume();
    tcp.resetAndDestroy();
    expect((await within(upstreamError, 5000, 'the tunnel connection to be reset'))?.code).toBe('ECONNRESET');
  });

  it('UpstreamRstPropagation: a TCP RST from the tunnel connection resets the client connection', async () => {
    const { upstream, port } = await h1();
    const tcp = client(port, false);
    const clientError = new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
      tcp.once('error', resolve);
      tcp.once('end', () => resolve(undefined));
    });
    const { socket } = await accept(upstream);
    tcp.write('hello');
    expect((await readBytes(socket, 5)).toString()).toBe('hello');
    tcp.resume();
    socket.resetAndDestroy();
    expect((await within(clientError, 5000, 'the client connection to end'))?.code).toBe('ECONNRESET');
  });

  it('DownstreamFinBeforeConnectResponse: the FIN reaches the upstream once the 200 is in', async () => {
    const { upstream, port } = await h1();
    const tcp = client(port);
    tcp.once('connect', () => tcp.end());
    const socket = await within(upstream.next(), 5000, 'upstream connection');
    const { head } = await within(readHead(socket), 5000, 'request head');
    expect(head).toMatch(/^CONNECT foo\.lyft\.com:80 HTTP\/1\.1\r\n/);
    socket.write('HTTP/1.1 200 OK\r\n\r\n');
    // HTTP/1.1 has no half-close: the tunnel's connection ends with the client's FIN.
    await within(readAll(socket), 5000, 'the upstream connection to end');
    tcp.resume();
    await within(closed(tcp), 5000, 'client close');
  });

  it('UpstreamDisconnectBeforeResponseReceived', async () => {
    const { upstream, port } = await h1();
    const tcp = client(port);
    const { socket } = await accept(upstream, '');
    socket.destroy();
    tcp.resume();
    await within(ended(tcp), 5000, 'client FIN');
  });

  it('TestIdletimeoutWithLargeOutstandingData', async () => {
    const { upstream, port, proxy } = await h1({ tcpProxy: 'idle_timeout: 0.5s', bufferLimit: 1024 });
    const tcp = client(port, false);
    const { socket } = await accept(upstream);
    tcp.write(Buffer.alloc(16 * 1024, 'c'));
    socket.write(Buffer.alloc(16 * 1024, 'd'));
    tcp.resume();
    socket.resume();
    const started = Date.now();
    await within(closed(tcp), 5000, 'client disconnected');
    await within(once(socket, 'close'), 5000, 'upstream disconnected');
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    expect(proxy.stat('tcp.tcp_stats.idle_timeout')).toBe(1);
  });
});

/** TcpProxy access_log lines with the propagated headers, the upstream host and the response flags. */
function accessLog(dir: string): string {
  return `access_log:
- name: envoy.access_loggers.file
  typed_config:
    "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
    path: ${join(dir, 'access.log')}
    log_format: { text_format_source: { inline_string: "%FILTER_STATE(envoy.tcp_proxy.propagate_response_headers:TYPED)% %RESPONSE_FLAGS%\\n" } }`;
}

/** The single access-log line, once the runtime has flushed it. */
async function accessLogLine(proxy: RunningProxy, dir: string): Promise<string> {
  await proxy.close();
  const lines = readFileSync(join(dir, 'access.log'), 'utf8').split('\n').filter((line) => line !== '');
  expect(lines).toHaveLength(1);
  return lines[0] ?? '';
}
