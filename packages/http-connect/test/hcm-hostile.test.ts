// Hostile clients: request smuggling attempts, invalid header bytes, oversized headers, a
// slowloris, HTTP/2 flow-control and framing violations. Each gets the right 4xx or GOAWAY, and
// the process goes on serving other connections.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from './hcm-clients.js';
import { cluster, hcmConfig } from './hcm-config.js';
import { httpBackend, rawClient, startProxy, waitFor, within, type RunningProxy } from './hcm-harness.js';

let proxy: RunningProxy;
let port: number;
let backendRequests = 0;
const finish: Array<() => Promise<void> | void> = [];

beforeAll(async () => {
  const server = await httpBackend((req, res) => {
    backendRequests++;
    req.resume();
    req.once('end', () => res.end('fine'));
  });
  finish.push(server.close);
  proxy = await startProxy(
    hcmConfig({
      hcm: `request_headers_timeout: 0.3s
http2_protocol_options: { initial_stream_window_size: 65535, initial_connection_window_size: 65535 }`,
      routes: '- match: { prefix: "/" }\n  route: { cluster: backend }',
      clusters: cluster('backend', server.port),
    }),
    { remap: false },
  );
  port = proxy.listenerPort('http');
});

afterAll(async () => {
  await proxy.close();
  for (const f of finish) await f();
});

/** Sends raw bytes on a fresh connection and returns everything until the proxy closes it. */
async function raw(bytes: string | Buffer): Promise<string> {
  const client = rawClient(port);
  client.socket.write(bytes);
  return (await within(client.closed, 5000, 'the proxy to close the connection')).toString('latin1');
}

/** The process still serves: a normal request on a new connection, each protocol. */
async function stillServing(): Promise<void> {
  const before = backendRequests;
  expect((await request('HTTP1', port, { path: '/after' })).body.toString()).toBe('fine');
  expect((await request('HTTP2', port, { path: '/after' })).body.toString()).toBe('fine');
  expect(backendRequests).toBe(before + 2);
}

describe('hostile HTTP/1.1 input', () => {
  it('smuggling: Content-Length with Transfer-Encoding is a 400 and the connection closes', async () => {
    const before = backendRequests;
    const answer = await raw(
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n',
    );
    expect(answer).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(answer.toLowerCase()).toContain('connection: close');
    expect(answer).not.toContain('fine');
    expect(backendRequests).toBe(before);
    await stillServing();
  });

  it('smuggling: two different Content-Lengths are a 400', async () => {
    const before = backendRequests;
    const answer = await raw('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nContent-Length: 40\r\n\r\nbody');
    expect(answer).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(backendRequests).toBe(before);
    await stillServing();
  });

  it('smuggling: an obfuscated Transfer-Encoding is a 400', async () => {
    const answer = await raw('POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    await stillServing();
  });

  it('invalid header bytes (a control character in a value, a space in a name) are a 400', async () => {
    expect(await raw('GET / HTTP/1.1\r\nHost: x\r\nX-Bad: a\x01b\r\n\r\n')).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(await raw('GET / HTTP/1.1\r\nHost: x\r\nBad Name: v\r\n\r\n')).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(await raw('\x00\x01\x02 garbage\r\n\r\n')).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    await stillServing();
  });

  it('headers over max_request_headers_kb (60 KiB) are a 431', async () => {
    const before = proxy.stat('http.ingress.downstream_cx_protocol_error') ?? 0;
    const answer = await raw(`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(61 * 1024)}\r\n\r\n`);
    expect(answer).toMatch(/^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
    expect(proxy.stat('http.ingress.downstream_cx_protocol_error')).toBe(before + 1);
    await stillServing();
  });

  it('more headers than max_headers_count (100) are a 431', async () => {
    const many = Array.from({ length: 101 }, (_, i) => `X-H${i}: ${i}\r\n`).join('');
    const answer = await raw(`GET / HTTP/1.1\r\nHost: x\r\n${many}\r\n`);
    expect(answer).toMatch(/^HTTP\/1\.1 431 /);
    await stillServing();
  });

  it('slowloris: headers dribbled past request_headers_timeout get 408 and the connection closes', async () => {
    const before = proxy.stat('http.ingress.downstream_rq_header_timeout') ?? 0;
    const client = rawClient(port);
    client.socket.write('GET / HTTP/1.1\r\nHost: x\r\n');
    const timer = setInterval(() => {
      if (!client.socket.destroyed) client.socket.write('X-a: b\r\n');
    }, 50);
    try {
      const answer = (await within(client.closed, 5000, 'the slowloris connection to close')).toString('latin1');
      expect(answer).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
      expect(answer).toContain('request header timeout');
    } finally {
      clearInterval(timer);
    }
    expect(proxy.stat('http.ingress.downstream_rq_header_timeout')).toBe(before + 1);
    await stillServing();
  });
});

describe('hostile HTTP/2 input', () => {
  const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
  const EMPTY_SETTINGS = Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]);

  /**
   * Sends the preface, an empty SETTINGS and `frames`, and resolves with the first GOAWAY's error
   * code, or undefined if the connection closed without one.
   */
  async function goawayFor(frames: Buffer): Promise<number | undefined> {
    const client = rawClient(port);
    client.socket.write(Buffer.concat([PREFACE, EMPTY_SETTINGS, frames]));
    let code: number | undefined;
    await within(
      new Promise<void>((resolve) => {
        const check = (): void => {
          const all = client.received();
          let offset = 0;
          while (offset + 9 <= all.length) {
            const length = all.readUIntBE(offset, 3);
            if (offset + 9 + length > all.length) break;
            if (all[offset + 3] === 7) {
              code = all.readUInt32BE(offset + 9 + 4);
              resolve();
              return;
            }
            offset += 9 + length;
          }
        };
        client.socket.on('data', check);
        client.socket.once('close', () => resolve());
      }),
      5000,
      'GOAWAY',
    );
    client.socket.destroy();
    return code;
  }

  it('a WINDOW_UPDATE that overflows the connection window: GOAWAY FLOW_CONTROL_ERROR', async () => {
    const before = proxy.stat('http.ingress.downstream_cx_protocol_error') ?? 0;
    // RFC 9113 §6.9.1: a flow-control window over 2^31-1 is a FLOW_CONTROL_ERROR on the connection.
    const windowUpdate = Buffer.from([0, 0, 4, 8, 0, 0, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff]);
    expect(await goawayFor(windowUpdate)).toBe(3);
    // The GOAWAY can reach the client before the proxy's session reports its error.
    await waitFor(() => proxy.stat('http.ingress.downstream_cx_protocol_error') === before + 1, 5000, 'the protocol error counted');
    await stillServing();
  });

  it('a stream WINDOW_UPDATE that overflows its window: RST_STREAM FLOW_CONTROL_ERROR', async () => {
    const client = rawClient(port);
    // HEADERS (stream 1, END_HEADERS, no END_STREAM): :method POST, :scheme http, :path /, :authority x.
    const headers = Buffer.from([0, 0, 6, 1, 4, 0, 0, 0, 1, 0x83, 0x86, 0x84, 0x41, 0x01, 0x78]);
    const windowUpdate = Buffer.from([0, 0, 4, 8, 0, 0, 0, 0, 1, 0x7f, 0xff, 0xff, 0xff]);
    client.socket.write(Buffer.concat([PREFACE, EMPTY_SETTINGS, headers, windowUpdate]));
    const rst = await within(
      new Promise<number>((resolve) => {
        client.socket.on('data', () => {
          const all = client.received();
          let offset = 0;
          while (offset + 9 <= all.length) {
            const length = all.readUIntBE(offset, 3);
            if (offset + 9 + length > all.length) break;
            if (all[offset + 3] === 3 && all.readUInt32BE(offset + 5) === 1) resolve(all.readUInt32BE(offset + 9));
            offset += 9 + length;
          }
        });
      }),
      5000,
      'RST_STREAM',
    );
    expect(rst).toBe(3);
    client.socket.destroy();
    await stillServing();
  });

  it('a DATA frame on stream 0: GOAWAY PROTOCOL_ERROR', async () => {
    // RFC 9113 §6.1: DATA must belong to a stream.
    expect(await goawayFor(Buffer.from([0, 0, 1, 0, 0, 0, 0, 0, 0, 0x61]))).toBe(1);
    await stillServing();
  });

  it('a frame larger than SETTINGS_MAX_FRAME_SIZE: GOAWAY FRAME_SIZE_ERROR', async () => {
    const size = 16_385;
    const oversized = Buffer.concat([Buffer.from([(size >> 16) & 0xff, (size >> 8) & 0xff, size & 0xff, 0, 0, 0, 0, 0, 1]), Buffer.alloc(size)]);
    expect(await goawayFor(oversized)).toBe(6);
    await stillServing();
  });

  it('garbage instead of a preface is refused without hurting anyone', async () => {
    await raw('PRI * HTTP/2.0\r\n\r\nXX\r\n\r\nnot http2 at all');
    await stillServing();
  });
});

describe('safe_regex runs in linear time (RE2, as Envoy)', () => {
  // "(a+)+b" against "aaaa…c" is the classic catastrophic backtracking case: a backtracking engine
  // tries 2^n splits before it fails (49 s for 30 "a"s with JavaScript's RegExp), freezing the
  // process. RE2 fails it in one pass.
  const routes = `- match: { safe_regex: { regex: "/(a+)+b" } }
  direct_response: { status: 200, body: { inline_string: "regex route" } }
- match: { prefix: "/", headers: [{ name: x-probe, string_match: { safe_regex: { regex: "(x+x+)+y" } } }] }
  direct_response: { status: 201, body: { inline_string: "header route" } }
- match: { prefix: "/" }
  direct_response: { status: 404, body: { inline_string: "fallback" } }`;

  it('a 32-byte and a 64 KiB pathological path, and a pathological header, get the fallback at once while a normal request is served', async () => {
    const regexProxy = await startProxy(hcmConfig({ hcm: 'max_request_headers_kb: 96', routes }), { remap: false });
    finish.push(() => regexProxy.close());
    const regexPort = regexProxy.listenerPort('http');
    const evil = `/${'a'.repeat(30)}c`;
    const huge = `/${'a'.repeat(64 * 1024)}c`;
    // All at once, bounded well below the 49 s the first alone took with a backtracking engine.
    const [short, long, header, normal] = await within(
      Promise.all([
        request('HTTP1', regexPort, { path: evil }),
        request('HTTP1', regexPort, { path: huge }),
        request('HTTP1', regexPort, { path: '/', headers: { 'x-probe': `${'x'.repeat(40)}z` } }),
        request('HTTP2', regexPort, { path: '/aaab' }),
      ]),
      5000,
      'the four requests',
    );
    expect([short.status, short.body.toString()]).toEqual([404, 'fallback']);
    expect([long.status, long.body.toString()]).toEqual([404, 'fallback']);
    expect([header.status, header.body.toString()]).toEqual([404, 'fallback']);
    expect([normal.status, normal.body.toString()]).toEqual([200, 'regex route']);
    // The same matchers still match what they should.
    expect((await request('HTTP1', regexPort, { path: '/', headers: { 'x-probe': 'xxxy' } })).status).toBe(201);
  });
});
