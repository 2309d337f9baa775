// Envoy's own tunneling configs (configs/encapsulate_in_http{1,2}_connect.yaml,
// encapsulate_in_http2_post.yaml), unmodified but for their ports, run through TcpProxy against
// fake terminators that check what Envoy would send and echo the payload back.
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { remapPorts } from '../../../test-support/remap-ports.js';
import { readBytes, readHead, within } from '../../http-connect/test/fixtures/tunnel-servers.js';
import { startProxy } from './harness.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const REPO = fileURLToPath(new URL('../../../', import.meta.url));

/** One of Envoy's configs, from IL_ENVOY_CONFIGS or ../shared/envoy-configs next to the repository. */
function envoyConfig(name: string): string {
  const dir = process.env.IL_ENVOY_CONFIGS ?? resolve(REPO, '../shared/envoy-configs');
  const path = join(dir, name);
  if (!existsSync(path)) {
    throw new Error(`Envoy's ${name} is not at ${path}: set IL_ENVOY_CONFIGS to the directory holding Envoy's configs/*.yaml`);
  }
  return readFileSync(path, 'utf8');
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

interface Seen {
  method: string | undefined;
  authority: string | undefined;
  path: string | undefined;
}

/** An HTTP/2 terminator on `port`: records the request, answers 200 and echoes. */
async function http2Terminator(port: number): Promise<Seen[]> {
  const seen: Seen[] = [];
  const server = http2.createServer();
  server.on('stream', (stream, headers) => {
    stream.on('error', () => undefined);
    seen.push({ method: headers[':method'], authority: headers[':authority'], path: headers[':path'] });
    stream.respond({ ':status': 200 });
    stream.pipe(stream);
  });
  server.on('session', (session) => session.on('error', () => undefined));
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(() => new Promise<void>((done) => server.close(() => done())));
  return seen;
}

/** An HTTP/1.1 CONNECT terminator on `port`: records the request line and Host, answers 200 and echoes. */
async function http1Terminator(port: number): Promise<Array<{ requestLine: string; host: string | undefined }>> {
  const seen: Array<{ requestLine: string; host: string | undefined }> = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    void readHead(socket).then(({ head }) => {
      const [requestLine = '', ...lines] = head.split('\r\n');
      const host = lines.find((line) => line.toLowerCase().startsWith('host:'))?.slice(5).trim();
      seen.push({ requestLine, host });
      socket.write('HTTP/1.1 200 Connection established\r\n\r\n');
      socket.pipe(socket);
    }, () => socket.destroy());
  });
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(() => new Promise<void>((done) => {
    for (const socket of sockets) socket.destroy();
    server.close(() => done());
  }));
  return seen;
}

/** An Envoy config with its ports remapped: the listener's 10000 and the upstream's 10001. */
async function remapped(name: string): Promise<{ text: string; listenPort: number; upstreamPort: number }> {
  const { text, ports } = await remapPorts(envoyConfig(name));
  const listenPort = ports.get(10000);
  const upstreamPort = ports.get(10001);
  if (listenPort === undefined || upstreamPort === undefined) throw new Error(`${name} no longer uses ports 10000 and 10001`);
  return { text, listenPort, upstreamPort };
}

async function start(text: string): Promise<void> {
  const proxy = await startProxy(text, { remap: false });
  cleanups.push(() => proxy.close());
}

/** 1 MiB through the tunnel and back, checked by sha256 (no FIN first: HTTP/1.1 tunnels have no half-close). */
async function echoThrough(port: number): Promise<void> {
  const payload = randomBytes(1024 * 1024);
  const client = net.connect({ port, host: '127.0.0.1' });
  client.on('error', () => undefined);
  cleanups.push(() => void client.destroy());
  const back = readBytes(client, payload.length);
  client.write(payload);
  expect(sha256(await within(back, 30_000, 'the echo'))).toBe(sha256(payload));
  client.end();
}

describe("Envoy's tunneling configs", () => {
  it('encapsulate_in_http1_connect.yaml: HTTP/1.1 CONNECT host.com:443', async () => {
    const { text, listenPort, upstreamPort } = await remapped('encapsulate_in_http1_connect.yaml');
    const seen = await http1Terminator(upstreamPort);
    await start(text);
    await echoThrough(listenPort);
    expect(seen).toEqual([{ requestLine: 'CONNECT host.com:443 HTTP/1.1', host: 'host.com:443' }]);
  });

  it('encapsulate_in_http2_connect.yaml: HTTP/2 CONNECT host.com:443 (classic: no :path)', async () => {
    const { text, listenPort, upstreamPort } = await remapped('encapsulate_in_http2_connect.yaml');
    const seen = await http2Terminator(upstreamPort);
    await start(text);
    await echoThrough(listenPort);
    expect(seen).toEqual([{ method: 'CONNECT', authority: 'host.com:443', path: undefined }]);
  });

  it('encapsulate_in_http2_post.yaml: HTTP/2 POST / to host.com:443', async () => {
    const { text, listenPort, upstreamPort } = await remapped('encapsulate_in_http2_post.yaml');
    const seen = await http2Terminator(upstreamPort);
    await start(text);
    await echoThrough(listenPort);
    expect(seen).toEqual([{ method: 'POST', authority: 'host.com:443', path: '/' }]);
  });

  it('a missing config directory fails with a clear message', () => {
    const saved = process.env.IL_ENVOY_CONFIGS;
    process.env.IL_ENVOY_CONFIGS = '/nonexistent';
    try {
      expect(() => envoyConfig('encapsulate_in_http2_post.yaml')).toThrow(/set IL_ENVOY_CONFIGS/);
    } finally {
      if (saved === undefined) delete process.env.IL_ENVOY_CONFIGS;
      else process.env.IL_ENVOY_CONFIGS = saved;
    }
  });
});
