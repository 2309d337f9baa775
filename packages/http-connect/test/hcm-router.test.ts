// The router through the connection manager: HTTP/1.1 and HTTP/2 downstreams × HTTP/1.1 (undici)
// and HTTP/2 (pooled) upstreams, header handling, large bodies both ways with backpressure, and
// the cluster and connection manager stats.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { h2Request, request, type Protocol } from './hcm-clients.js';
import { cluster, hcmConfig } from './hcm-config.js';
import { http2Backend, httpBackend, startProxy, waitFor, waitForStall, within, type RunningProxy } from './hcm-harness.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

type Upstream = 'http1' | 'http2';

interface SeenRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
}

/**
 * A backend of either protocol: `GET /echo-headers` answers 201 with a custom header, `POST /echo`
 * streams the request body back, `GET /big?bytes=N` sends N bytes and reports how far it got (and
 * whether it is waiting for 'drain'), `POST /sink` reads nothing until `releaseSink()`, then
 * answers with the body's length.
 */
async function backend(
  kind: Upstream,
): Promise<{ port: number; seen: SeenRequest[]; progress: { written: number; done: boolean; waitingForDrain: boolean }; releaseSink: () => void }> {
  const seen: SeenRequest[] = [];
  const progress = { written: 0, done: false, waitingForDrain: false };
  let releaseSink = (): void => undefined;
  const sinkGate = new Promise<void>((resolve) => (releaseSink = resolve));
  const bigChunk = Buffer.alloc(64 * 1024, 0x61);
  const sendBig = (total: number, write: (chunk: Buffer) => boolean, onDrain: (cb: () => void) => void, end: () => void): void => {
    const pump = (): void => {
      progress.waitingForDrain = false;
      while (progress.written < total) {
        const chunk = bigChunk.subarray(0, Math.min(bigChunk.length, total - progress.written));
        progress.written += chunk.length;
        if (!write(chunk)) {
          progress.waitingForDrain = true;
          onDrain(pump);
          return;
        }
      }
      progress.done = true;
      end();
    };
    pump();
  };
  if (kind === 'http1') {
    const server = await httpBackend((req: http.IncomingMessage, res: http.ServerResponse) => {
      const url = new URL(req.url ?? '/', 'http://x');
      seen.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers });
      if (url.pathname === '/echo') {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        req.pipe(res);
      } else if (url.pathname === '/sink') {
        sink(req, sinkGate, (count) => res.end(String(count)));
      } else if (url.pathname === '/big') {
        res.writeHead(200, { 'content-length': url.searchParams.get('bytes') ?? '0' });
        sendBig(Number(url.searchParams.get('bytes')), (c) => res.write(c), (cb) => res.once('drain', cb), () => res.end());
      } else {
        res.writeHead(201, { 'x-backend': 'yes', 'content-type': 'text/plain', connection: 'keep-alive', 'keep-alive': 'timeout=5' });
        res.end('hello from the backend');
      }
    });
    cleanups.push(server.close);
    return { port: server.port, seen, progress, releaseSink };
  }
  const server = await http2Backend((stream, headers) => {
    const path = String(headers[':path']);
    const url = new URL(path, 'http://x');
    seen.push({ method: String(headers[':method']), path, headers });
    if (url.pathname === '/echo') {
      stream.respond({ ':status': 200, 'content-type': 'application/octet-stream' });
      stream.pipe(stream);
    } else if (url.pathname === '/sink') {
      sink(stream, sinkGate, (count) => {
        stream.respond({ ':status': 200 });
        stream.end(String(count));
      });
    } else if (url.pathname === '/big') {
      stream.respond({ ':status': 200, 'content-length': url.searchParams.get('bytes') ?? '0' });
      sendBig(Number(url.searchParams.get('bytes')), (c) => stream.write(c), (cb) => stream.once('drain', cb), () => stream.end());
    } else {
      stream.respond({ ':status': 201, 'x-backend': 'yes', 'content-type': 'text/plain' });
      stream.end('hello from the backend');
    }
  });
  cleanups.push(server.close);
  return { port: server.port, seen, progress, releaseSink };
}

async function proxyTo(port: number, upstream: Upstream, extra: { hcm?: string; http2Options?: string } = {}): Promise<RunningProxy> {
  const proxy = await startProxy(
    hcmConfig({
      routes: '- name: all\n  match: { prefix: "/" }\n  route: { cluster: backend }',
      clusters: cluster('backend', port, { http2: upstream === 'http2' ? (extra.http2Options ?? true) : false }),
      ...(extra.hcm === undefined ? {} : { hcm: extra.hcm }),
    }),
    { remap: false },
  );
  cleanups.push(() => proxy.close());
  return proxy;
}

/** Reads nothing until `gate` resolves, then counts the whole body. */
function sink(body: Readable, gate: Promise<void>, done: (count: number) => void): void {
  body.pause();
  let count = 0;
  void gate.then(() => {
    body.on('data', (chunk: Buffer) => (count += chunk.length));
    body.on('end', () => done(count));
    body.resume();
  });
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

describe.each<[Protocol, Upstream]>([
  ['HTTP1', 'http1'],
  ['HTTP1', 'http2'],
  ['HTTP2', 'http1'],
  ['HTTP2', 'http2'],
])('%s downstream, %s upstream', (downstream, upstream) => {
  it('proxies a request: forwarded headers upstream, Envoy headers downstream, stats', async () => {
    const server = await backend(upstream);
    const proxy = await proxyTo(server.port, upstream);
    const port = proxy.listenerPort('http');
    const response = await request(downstream, port, {
      path: '/echo-headers?q=1',
      headers: downstream === 'HTTP1' ? { 'x-custom': 'abc', connection: 'keep-alive', 'keep-alive': 'timeout=10' } : { 'x-custom': 'abc' },
    });
    expect(response.status).toBe(201);
    expect(response.body.toString()).toBe('hello from the backend');
    expect(response.headers['x-backend']).toBe('yes');
    expect(response.headers.server).toBe('envoy');
    expect(response.headers.date).toMatch(/GMT$/);
    expect(response.headers['x-envoy-upstream-service-time']).toMatch(/^\d+$/);
    // The backend's hop-by-hop headers stay behind.
    expect(response.headers['keep-alive']).toBeUndefined();
    if (downstream === 'HTTP1') expect(response.headers.connection).toBeUndefined();

    const seen = server.seen[0];
    expect(seen?.method).toBe('GET');
    expect(seen?.path).toBe('/echo-headers?q=1');
    const h = seen?.headers ?? {};
    expect(upstream === 'http1' ? h.host : h[':authority']).toBe(`127.0.0.1:${port}`);
    expect(h['x-custom']).toBe('abc');
    expect(h['x-forwarded-proto']).toBe('http');
    expect(h['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(h['x-envoy-expected-rq-timeout-ms']).toBe('15000');
    expect(h['keep-alive']).toBeUndefined();

    await waitFor(() => proxy.stat('http.ingress.downstream_rq_active') === 0);
    expect(proxy.stat('http.ingress.downstream_rq_total')).toBe(1);
    expect(proxy.stat(`http.ingress.downstream_rq_${downstream === 'HTTP1' ? 'http1' : 'http2'}_total`)).toBe(1);
    expect(proxy.stat('http.ingress.downstream_rq_2xx')).toBe(1);
    expect(proxy.stat('http.ingress.downstream_rq_completed')).toBe(1);
    expect(proxy.stat('cluster.backend.upstream_rq_total')).toBe(1);
    expect(proxy.stat('cluster.backend.upstream_rq_201')).toBe(1);
    expect(proxy.stat('cluster.backend.upstream_rq_2xx')).toBe(1);
    expect(proxy.stat('cluster.backend.upstream_rq_completed')).toBe(1);
    expect(proxy.stat('cluster.backend.upstream_rq_active')).toBe(0);
    const host = proxy.runtime.clusterManager.get('backend')?.hosts()[0];
    expect(host?.stats.rq_active).toBe(0);
    expect(host?.stats.rq_total).toBe(1);
  });

  it('streams 16 MiB up and back down, sha256 intact, through a slow reader', async () => {
    const server = await backend(upstream);
    const proxy = await proxyTo(server.port, upstream);
    const payload = randomBytes(16 * 1024 * 1024);
    // The body is produced in 256 KiB pieces so nothing upstream sees it whole.
    let offset = 0;
    const body = new Readable({
      read() {
        if (offset >= payload.length) {
          this.push(null);
          return;
        }
        this.push(payload.subarray(offset, offset + 256 * 1024));
        offset += 256 * 1024;
      },
    });
    const port = proxy.listenerPort('http');
    const result = await slowRead(downstream, port, '/echo', body, payload.length);
    expect(result.length).toBe(payload.length);
    expect(sha256(result)).toBe(sha256(payload));
  }, 60_000);

  it('backpressure: a paused client stops the upstream instead of the proxy buffering the body', async () => {
    const server = await backend(upstream);
    // An HTTP/2 upstream may always fill the windows it was granted (Envoy's 256 MiB by default,
    // as in Envoy); RFC-size windows show the flow control itself.
    const proxy = await proxyTo(server.port, upstream, { http2Options: '{ initial_stream_window_size: 65535, initial_connection_window_size: 65535 }' });
    const port = proxy.listenerPort('http');
    const total = 128 * 1024 * 1024;
    const { stream, resume } = await pausedDownload(downstream, port, `/big?bytes=${total}`);
    // With the client paused, the backend can only fill the buffers and windows on the way: wait
    // until it is held, waiting for a 'drain' that does not come (or done, which fails below).
    await waitForStall(
      () => server.progress.written,
      () => server.progress.waitingForDrain || server.progress.done,
      300,
      30_000,
      'the backend to be held by the paused client',
    );
    const writtenWhilePaused = server.progress.written;
    expect(server.progress.done).toBe(false);
    expect(writtenWhilePaused).toBeLessThan(48 * 1024 * 1024);
    const received = await resume();
    expect(received).toBe(total);
    expect(server.progress.done).toBe(true);
    stream.destroy();
  }, 60_000);

  it('backpressure: an upstream that does not read stops the client instead of the proxy buffering the body', async () => {
    const server = await backend(upstream);
    // HTTP/2 downstream windows at the RFC size, for the same reason as above.
    const proxy = await proxyTo(server.port, upstream, { hcm: 'http2_protocol_options: { initial_stream_window_size: 65535, initial_connection_window_size: 65535 }' });
    const total = 128 * 1024 * 1024;
    let produced = 0;
    const piece = Buffer.alloc(64 * 1024, 0x62);
    const body = new Readable({
      read() {
        if (produced >= total) {
          this.push(null);
          return;
        }
        produced += piece.length;
        this.push(piece);
      },
    });
    const pending = request(downstream, proxy.listenerPort('http'), { method: 'POST', path: '/sink', body, timeoutMs: 50_000 });
    // The backend is not reading yet: wait until the client is held, its body paused by the pipe
    // for a 'drain' that does not come (or all produced, which fails below).
    await waitForStall(
      () => produced,
      () => body.isPaused() || produced >= total,
      300,
      30_000,
      'the client body to be held by the backend that does not read',
    );
    // The client got as far as the buffers on the way allow.
    expect(produced).toBeLessThan(48 * 1024 * 1024);
    server.releaseSink();
    const response = await pending;
    expect(response.status).toBe(200);
    expect(Number(response.body.toString())).toBe(total);
  }, 60_000);
});

/** POSTs `body` to `path` and reads the response slowly (a pause every MiB). */
async function slowRead(protocol: Protocol, port: number, path: string, body: Readable, expected: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let received = 0;
  let nextPause = 1024 * 1024;
  const onChunk = (source: Readable) => (chunk: Buffer) => {
    chunks.push(chunk);
    received += chunk.length;
    if (received >= nextPause) {
      nextPause += 1024 * 1024;
      source.pause();
      setTimeout(() => source.resume(), 10);
    }
  };
  if (protocol === 'HTTP1') {
    await within(
      new Promise<void>((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port, method: 'POST', path, agent: false });
        req.on('error', reject);
        req.on('response', (res) => {
          res.on('data', onChunk(res));
          res.on('end', () => resolve());
          res.on('error', reject);
        });
        body.pipe(req);
      }),
      50_000,
      'the echoed body',
    );
  } else {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.on('error', () => undefined);
    cleanups.push(() => {
      session.destroy();
    });
    await within(
      new Promise<void>((resolve, reject) => {
        const stream = session.request({ ':method': 'POST', ':path': path });
        stream.on('error', reject);
        stream.on('data', onChunk(stream));
        stream.on('end', () => resolve());
        body.pipe(stream);
      }),
      50_000,
      'the echoed body',
    );
  }
  expect(received).toBe(expected);
  return Buffer.concat(chunks);
}

/** Starts a download and pauses it after the first bytes; `resume()` reads the rest and resolves with the byte count. */
async function pausedDownload(protocol: Protocol, port: number, path: string): Promise<{ stream: Readable; resume: () => Promise<number> }> {
  let stream: Readable;
  if (protocol === 'HTTP1') {
    stream = await within(
      new Promise<Readable>((resolve, reject) => {
        const req = http.get({ host: '127.0.0.1', port, path, agent: false }, resolve);
        req.on('error', reject);
      }),
      5000,
      'the download response',
    );
  } else {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.on('error', () => undefined);
    cleanups.push(() => {
      session.destroy();
    });
    const h2stream = session.request({ ':path': path });
    await within(new Promise((resolve) => h2stream.once('response', resolve)), 5000, 'the download response');
    stream = h2stream;
  }
  let received = 0;
  stream.on('error', () => undefined);
  const first = await within(new Promise<Buffer>((resolve) => stream.once('data', resolve)), 5000, 'the first bytes');
  received += first.length;
  stream.pause();
  return {
    stream,
    resume: () =>
      within(
        new Promise<number>((resolve) => {
          stream.on('data', (chunk: Buffer) => (received += chunk.length));
          stream.once('end', () => resolve(received));
          stream.resume();
        }),
        50_000,
        'the rest of the download',
      ),
  };
}

describe('HTTP/2 downstream', () => {
  it('multiplexes many concurrent requests on one connection to an HTTP/1.1 upstream', async () => {
    const server = await backend('http1');
    const proxy = await proxyTo(server.port, 'http1');
    const port = proxy.listenerPort('http');
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.on('error', () => undefined);
    cleanups.push(() => {
      session.destroy();
    });
    const responses = await Promise.all(Array.from({ length: 50 }, (_, i) => h2Request(port, { session, path: `/echo-headers?i=${i}` })));
    expect(responses.every((r) => r.status === 201)).toBe(true);
    expect(proxy.stat('http.ingress.downstream_cx_total')).toBe(1);
    expect(proxy.stat('http.ingress.downstream_rq_2xx')).toBe(50);
  });

  it("advertises Envoy's defaults (since 1.36): 1024 streams, 16 MiB per stream and 24 MiB per connection", async () => {
    const server = await backend('http1');
    const proxy = await proxyTo(server.port, 'http1');
    const session = http2.connect(`http://127.0.0.1:${proxy.listenerPort('http')}`);
    session.on('error', () => undefined);
    cleanups.push(() => {
      session.destroy();
    });
    const settings = await within(new Promise<http2.Settings>((resolve) => session.once('remoteSettings', resolve)), 5000, 'SETTINGS');
    expect(settings.initialWindowSize).toBe(16 * 1024 * 1024);
    expect(settings.maxConcurrentStreams).toBe(1024);
    await waitFor(() => (session.state.remoteWindowSize ?? 0) > 65_535, 5000, 'the connection WINDOW_UPDATE');
    expect(session.state.remoteWindowSize).toBe(24 * 1024 * 1024);
  });
});

describe('trailers', () => {
  it('HTTP/2 upstream trailers reach an HTTP/2 client (gRPC style) and the access log', async () => {
    const upstream = await http2Backend((stream) => {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0', 'grpc-message': 'ok' }));
      stream.end('payload');
    });
    cleanups.push(upstream.close);
    const dir = mkdtempSync(join(tmpdir(), 'il-trailers-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const proxy = await startProxy(
      hcmConfig({
        routes: '- match: { prefix: "/" }\n  route: { cluster: backend }',
        clusters: cluster('backend', upstream.port, { http2: true }),
        logPath: join(dir, 'access.log'),
        logFormat: '%RESPONSE_CODE% %TRAILER(GRPC-STATUS)% %TRAILER(GRPC-MESSAGE)% %RESP(CONTENT-TYPE)%\\n',
      }),
      { remap: false },
    );
    cleanups.push(() => proxy.close());
    const session = http2.connect(`http://127.0.0.1:${proxy.listenerPort('http')}`);
    session.on('error', () => undefined);
    cleanups.push(() => {
      session.destroy();
    });
    const stream = session.request({ ':method': 'POST', ':path': '/svc/Method', 'content-type': 'application/grpc', te: 'trailers' });
    stream.end('request');
    const trailers = await within(new Promise<http2.IncomingHttpHeaders>((resolve) => stream.once('trailers', resolve)), 5000, 'the trailers');
    expect(trailers['grpc-status']).toBe('0');
    expect(trailers['grpc-message']).toBe('ok');
    await waitFor(() => proxy.stat('http.ingress.downstream_rq_active') === 0);
    await proxy.runtime.accessLogFiles.flush();
    expect(readFileSync(join(dir, 'access.log'), 'utf8')).toBe('200 0 ok application/grpc\n');
  });
});
