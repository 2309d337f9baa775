// The project's decap example (examples/decap.yaml): CONNECT over HTTP/2 and HTTP/1.1 reaches the
// internal listener "decap", whose own connection manager answers the GET sent inside the tunnel.
import http2 from 'node:http2';
import { afterEach, describe, expect, it } from 'vitest';
import { example, rawClient, startProxy, within } from './hcm-harness.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('examples/decap.yaml', () => {
  it('terminates an HTTP/1.1 CONNECT into the internal listener, whose HCM answers the tunnelled GET', async () => {
    const proxy = await startProxy(example('decap.yaml'));
    cleanups.push(() => proxy.close());
    const client = rawClient(proxy.port(10001));
    cleanups.push(() => void client.socket.destroy());
    client.socket.write('CONNECT host.com:80 HTTP/1.1\r\nHost: host.com:80\r\n\r\n');
    const head = await client.waitForText('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(head.toLowerCase()).not.toContain('content-length');
    expect(head.toLowerCase()).not.toContain('transfer-encoding');
    client.socket.write('GET / HTTP/1.1\r\nHost: host.com\r\n\r\n');
    const text = await client.waitForText('Hello, world!\n');
    expect(text).toContain('HTTP/1.1 200 OK');
    expect(proxy.stat('http.connect.downstream_cx_upgrades_total')).toBe(1);
    expect(proxy.stat('http.decap.downstream_rq_2xx')).toBe(1);
  });

  it('terminates an HTTP/2 CONNECT the same way', async () => {
    const proxy = await startProxy(example('decap.yaml'));
    cleanups.push(() => proxy.close());
    const session = http2.connect(`http://127.0.0.1:${proxy.port(10001)}`);
    session.on('error', () => undefined);
    cleanups.push(() => {
      session.destroy();
    });
    const stream = session.request({ ':method': 'CONNECT', ':authority': 'host.com:80' });
    const headers = await within(new Promise<http2.IncomingHttpHeaders>((resolve) => stream.once('response', resolve)), 5000, 'the CONNECT response');
    expect(headers[':status']).toBe(200);
    stream.write('GET / HTTP/1.1\r\nHost: host.com\r\n\r\n');
    let text = '';
    await within(
      new Promise<void>((resolve) => {
        stream.on('data', (chunk: Buffer) => {
          text += chunk.toString();
          if (text.includes('Hello, world!\n')) resolve();
        });
      }),
      5000,
      'the tunnelled response',
    );
    expect(text).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
  });
});

describe('an internal listener speaking HTTP/2', () => {
  it('the decap HCM (codec AUTO) answers HTTP/2 with prior knowledge sent inside an HTTP/2 CONNECT tunnel', async () => {
    const proxy = await startProxy(example('decap.yaml'));
    cleanups.push(() => proxy.close());
    const outer = http2.connect(`http://127.0.0.1:${proxy.port(10001)}`);
    outer.on('error', () => undefined);
    cleanups.push(() => {
      outer.destroy();
    });
    const tunnel = outer.request({ ':method': 'CONNECT', ':authority': 'host.com:80' });
    tunnel.on('error', () => undefined);
    await within(new Promise((resolve) => tunnel.once('response', resolve)), 5000, 'the CONNECT response');
    // An HTTP/2 session over the tunnel stream: the internal listener sees the preface and picks HTTP/2.
    const inner = http2.connect('http://host.com', { createConnection: () => tunnel });
    inner.on('error', () => undefined);
    cleanups.push(() => {
      inner.destroy();
    });
    const stream = inner.request({ ':path': '/' });
    let body = '';
    stream.on('data', (chunk: Buffer) => (body += chunk.toString()));
    const ended = new Promise((resolve) => stream.once('end', resolve));
    const headers = await within(new Promise<http2.IncomingHttpHeaders>((resolve) => stream.once('response', resolve)), 5000, 'the inner response');
    await within(ended, 5000, 'the inner body');
    expect(headers[':status']).toBe(200);
    expect(body).toBe('Hello, world!\n');
    expect(proxy.stat('http.decap.downstream_cx_http2_total')).toBe(1);
  });
});
