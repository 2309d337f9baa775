// Connection manager timers and connection management: stream idle, request and connection idle
// timeouts, drain (HTTP/2 GOAWAY, HTTP/1.1 `connection: close`), refused upgrades, codec choice,
// and the HTTP/1.x rules Envoy's codec applies.
import http2 from 'node:http2';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { request, type Protocol } from './hcm-clients.js';
import { cluster, hcmConfig } from './hcm-config.js';
import { httpBackend, rawClient, startProxy, waitFor, within, type RunningProxy } from './hcm-harness.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A proxy in front of a backend that answers `/slow` after 2 s and everything else at once. */
async function setUp(hcm: string, routeExtra = ''): Promise<{ proxy: RunningProxy; port: number }> {
  const server = await httpBackend((req, res) => {
    const send = (): void => {
      if (!res.destroyed) res.end(`ok ${req.url ?? ''}`);
    };
    if (req.url === '/slow') setTimeout(send, 2000);
    else req.resume().once('end', send);
  });
  cleanups.push(server.close);
  const proxy = await startProxy(
    hcmConfig({
      hcm,
      routes: `- match: { prefix: "/" }\n  route: { cluster: backend${routeExtra} }`,
      clusters: cluster('backend', server.port),
    }),
    { remap: false },
  );
  cleanups.push(() => proxy.close());
  return { proxy, port: proxy.listenerPort('http') };
}

describe.each<Protocol>(['HTTP1', 'HTTP2'])('stream timers (%s)', (protocol) => {
  it("stream_idle_timeout before the request is complete: 408 'stream timeout' (SI)", async () => {
    const { proxy, port } = await setUp('stream_idle_timeout: 0.2s');
    let response;
    if (protocol === 'HTTP1') {
      const client = rawClient(port);
      cleanups.push(() => void client.socket.destroy());
      client.socket.write('POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhalf');
      const text = await client.waitForText('stream timeout');
      expect(text).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
      expect(text.toLowerCase()).toContain('connection: close');
      response = { status: 408 };
    } else {
      const session = http2.connect(`http://127.0.0.1:${port}`);
      session.on('error', () => undefined);
      cleanups.push(() => {
        session.destroy();
      });
      const stream = session.request({ ':method': 'POST', ':path': '/upload' });
      stream.on('error', () => undefined);
      stream.write('half');
      const headers = await within(new Promise<http2.IncomingHttpHeaders>((resolve) => stream.once('response', resolve)), 5000, 'the 408');
      response = { status: Number(headers[':status']) };
    }
    expect(response.status).toBe(408);
    expect(proxy.stat('http.ingress.downstream_rq_idle_timeout')).toBe(1);
    expect(proxy.stat('http.ingress.downstream_rq_4xx')).toBe(1);
  });

  it("stream_idle_timeout with the request complete and no response: 504 'stream timeout'", async () => {
    const { proxy, port } = await setUp('stream_idle_timeout: 0.2s', ', timeout: 0s');
    const response = await request(protocol, port, { path: '/slow' });
    expect(response.status).toBe(504);
    expect(response.body.toString()).toBe('stream timeout');
    expect(proxy.stat('http.ingress.downstream_rq_idle_timeout')).toBe(1);
  });

  it("request_timeout: 408 'request timeout' for a request body that never finishes", async () => {
    const { proxy, port } = await setUp('request_timeout: 0.3s');
    const body = new PassThrough();
    const timer = setInterval(() => body.write('x'), 50);
    cleanups.push(() => clearInterval(timer));
    const response = await request(protocol, port, { method: 'POST', path: '/upload', body });
    expect(response.status).toBe(408);
    expect(response.body.toString()).toBe('request timeout');
    expect(proxy.stat('http.ingress.downstream_rq_timeout')).toBe(1);
  });

  it('common_http_protocol_options.idle_timeout closes an idle connection (HTTP/2 with GOAWAY)', async () => {
    const { proxy, port } = await setUp('common_http_protocol_options: { idle_timeout: 0.2s }');
    if (protocol === 'HTTP1') {
      const client = rawClient(port);
      client.socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      await client.waitForText('ok /');
      await within(client.closed, 5000, 'the idle connection to close');
    } else {
      const session = http2.connect(`http://127.0.0.1:${port}`);
      session.on('error', () => undefined);
      const goaway = new Promise<number>((resolve) => session.once('goaway', resolve));
      expect((await request('HTTP2', port, { session })).status).toBe(200);
      expect(await within(goaway, 5000, 'GOAWAY')).toBe(http2.constants.NGHTTP2_NO_ERROR);
      await within(new Promise((resolve) => session.once('close', resolve)), 5000, 'the session to close');
    }
    expect(proxy.stat('http.ingress.downstream_cx_idle_timeout')).toBe(1);
  });

  it('drain: HTTP/1.1 answers with connection: close, HTTP/2 gets GOAWAY; requests in flight finish', async () => {
    const { proxy, port } = await setUp('');
    if (protocol === 'HTTP1') {
      const client = rawClient(port);
      client.socket.write('GET /first HTTP/1.1\r\nHost: x\r\n\r\n');
      await client.waitForText('ok /first');
      expect(client.text().toLowerCase()).not.toContain('connection: close');
      proxy.runtime.drain.startDrain(10_000);
      client.socket.write('GET /second HTTP/1.1\r\nHost: x\r\n\r\n');
      await client.waitForText('ok /second');
      expect(client.text().split('ok /first')[1]?.toLowerCase()).toContain('connection: close');
      await within(client.closed, 5000, 'the drained connection to close');
    } else {
      const session = http2.connect(`http://127.0.0.1:${port}`);
      session.on('error', () => undefined);
      const goaway = new Promise<number>((resolve) => session.once('goaway', resolve));
      const inFlight = request('HTTP2', port, { session, path: '/slow', timeoutMs: 10_000 });
      await waitFor(() => proxy.stat('http.ingress.downstream_rq_active') === 1);
      proxy.runtime.drain.startDrain(10_000);
      expect(await within(goaway, 5000, 'GOAWAY')).toBe(http2.constants.NGHTTP2_NO_ERROR);
      expect((await inFlight).status).toBe(200);
    }
    expect(proxy.stat('http.ingress.downstream_cx_drain_close')).toBe(1);
  });
});

describe('upgrades', () => {
  it('a websocket upgrade on a route without it: 403, and nothing else is read from the connection', async () => {
    const { proxy, port } = await setUp('');
    const client = rawClient(port);
    // The pipelined second request must never be answered (anti-smuggling).
    client.socket.write('GET /ws HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n');
    const all = (await within(client.closed, 5000, 'the connection to close')).toString('latin1');
    expect(all).toMatch(/^HTTP\/1\.1 403 Forbidden\r\n/);
    expect(all.toLowerCase()).toContain('connection: close');
    expect(all).not.toContain('smuggled');
    expect(proxy.stat('http.ingress.downstream_rq_ws_on_non_ws_route')).toBe(1);
  });

  it('a CONNECT on a route where CONNECT is not enabled: 403 and the connection closes', async () => {
    const server = await httpBackend((_req, res) => res.end('never'));
    cleanups.push(server.close);
    const proxy = await startProxy(
      hcmConfig({ routes: '- match: { connect_matcher: {} }\n  route: { cluster: backend }', clusters: cluster('backend', server.port) }),
      { remap: false },
    );
    cleanups.push(() => proxy.close());
    const port = proxy.listenerPort('http');
    const client = rawClient(port);
    client.socket.write('CONNECT foo.example:443 HTTP/1.1\r\nHost: foo.example:443\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n');
    const all = (await within(client.closed, 5000, 'the connection to close')).toString('latin1');
    expect(all).toMatch(/^HTTP\/1\.1 403 Forbidden\r\n/);
    expect(all).not.toContain('smuggled');
    expect(proxy.stat('http.ingress.downstream_rq_ws_on_non_ws_route')).toBe(1);
    expect(proxy.stat('http.ingress.downstream_rq_4xx')).toBe(1);
  });
});

describe('HTTP/1.x and codecs', () => {
  it('AUTO: pipelined HTTP/1.1 requests in the first packet are answered in order', async () => {
    const { port } = await setUp('');
    const client = rawClient(port);
    client.socket.write('GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\nGET /c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    const all = (await within(client.closed, 5000, 'three responses')).toString('latin1');
    const bodies = [...all.matchAll(/ok \/([abc])/g)].map((m) => m[1]);
    expect(bodies).toEqual(['a', 'b', 'c']);
  });

  it('HTTP/1.0 is refused with 426 unless accept_http_10', async () => {
    const { port } = await setUp('');
    const client = rawClient(port);
    client.socket.write('GET / HTTP/1.0\r\nHost: x\r\n\r\n');
    const all = (await within(client.closed, 5000, 'the 426')).toString('latin1');
    expect(all).toMatch(/^HTTP\/1\.1 426 Upgrade Required\r\n/);
    const accepting = await setUp('http_protocol_options: { accept_http_10: true }');
    const client10 = rawClient(accepting.port);
    client10.socket.write('GET /ten HTTP/1.0\r\nHost: x\r\n\r\n');
    expect((await within(client10.closed, 5000, 'the HTTP/1.0 response')).toString('latin1')).toContain('ok /ten');
  });

  it('a request without Host is a 400 (missing_host_header)', async () => {
    const { port } = await setUp('');
    const client = rawClient(port);
    client.socket.write('GET / HTTP/1.1\r\n\r\n');
    expect(await client.waitForText('\r\n\r\n')).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
  });

  it('an absolute-form request-target: its authority and path are used', async () => {
    const { port } = await setUp('');
    const client = rawClient(port);
    client.socket.write('GET http://other.example/abs?x=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect((await within(client.closed, 5000, 'the response')).toString('latin1')).toContain('ok /abs?x=1');
  });

  it('max_requests_per_connection: the last response closes the connection', async () => {
    const { proxy, port } = await setUp('common_http_protocol_options: { max_requests_per_connection: 2 }');
    const client = rawClient(port);
    client.socket.write('GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\n');
    const all = (await within(client.closed, 5000, 'the connection to close')).toString('latin1');
    expect(all).toContain('ok /2');
    expect(all.split('ok /1')[1]?.toLowerCase()).toContain('connection: close');
    expect(proxy.stat('http.ingress.downstream_cx_max_requests_reached')).toBe(1);
  });

  it('codec_type HTTP2 refuses HTTP/1.1; codec_type HTTP1 does not speak HTTP/2', async () => {
    const h2only = await setUp('codec_type: HTTP2');
    const client = rawClient(h2only.port);
    client.socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await within(client.closed, 5000, 'the connection to close');
    expect(client.text()).not.toContain('HTTP/1.1 200');
    expect((await request('HTTP2', h2only.port)).status).toBe(200);

    const h1only = await setUp('codec_type: HTTP1');
    expect((await request('HTTP1', h1only.port)).status).toBe(200);
    const preface = rawClient(h1only.port);
    preface.socket.write('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
    const answer = (await within(preface.closed, 5000, 'the connection to close')).toString('latin1');
    expect(answer).toMatch(/^HTTP\/1\.1 (400|505)/);
  });

  it('connection stats: totals, per-codec gauges, destroy and length', async () => {
    const { proxy, port } = await setUp('');
    expect((await request('HTTP1', port)).status).toBe(200);
    expect((await request('HTTP2', port)).status).toBe(200);
    await waitFor(() => proxy.stat('http.ingress.downstream_cx_active') === 0, 5000, 'both connections to close');
    expect(proxy.stat('http.ingress.downstream_cx_total')).toBe(2);
    expect(proxy.stat('http.ingress.downstream_cx_http1_total')).toBe(1);
    expect(proxy.stat('http.ingress.downstream_cx_http2_total')).toBe(1);
    expect(proxy.stat('http.ingress.downstream_cx_http1_active')).toBe(0);
    expect(proxy.stat('http.ingress.downstream_cx_http2_active')).toBe(0);
    expect(proxy.stat('http.ingress.downstream_cx_destroy')).toBe(2);
    expect(proxy.store.histograms().find((h) => h.name === 'http.ingress.downstream_cx_length_ms')?.count).toBe(2);
    expect(proxy.store.histograms().find((h) => h.name === 'http.ingress.downstream_rq_time')?.count).toBe(2);
  });
});
