// examples/hbone as a user runs it: the certificates from make-certs.sh, the client-side and the
// server-side il-proxy, curl through the pair, identities checked both ways, and a large transfer
// behind a slow reader with memory bounded.
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { requirePeer } from '../../../test-support/peers.js';
import { residentMiB } from '../../../test-support/sockets.js';
import { waitFor, within } from '../../../test-support/wait.js';
import { adminStat, serve } from './il-proxy-process.js';

const run = promisify(execFile);
const EXAMPLE = fileURLToPath(new URL('../../../examples/hbone/', import.meta.url));
const MiB = 1024 * 1024;
const CLIENT_ID = 'spiffe://cluster.local/ns/default/sa/client';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

let certs: string;
let backendPort: number;
let closeBackend: () => Promise<void>;

/**
 * The demo backend: an HTTP GET gets a fixed answer; anything else is echoed (the bulk test).
 */
async function backend(): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.once('data', (first: Buffer) => {
      if (first.toString('latin1', 0, 4) === 'GET ') {
        socket.end('HTTP/1.1 200 OK\r\ncontent-length: 22\r\nconnection: close\r\n\r\nhello from the backend');
        return;
      }
      socket.write(first);
      socket.pipe(socket);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

beforeAll(async () => {
  certs = mkdtempSync(join(tmpdir(), 'il-hbone-'));
  requirePeer('openssl');
  await run('sh', [join(EXAMPLE, 'make-certs.sh'), certs], { timeout: 60_000 });
  const b = await backend();
  backendPort = b.port;
  closeBackend = b.close;
});
afterAll(async () => {
  await closeBackend();
  rmSync(certs, { recursive: true, force: true });
});

/** An example config with its certificates from `certs`, and `swap` applied ([from, to] pairs). */
function config(name: 'client.yaml' | 'server.yaml', swap: ReadonlyArray<[string, string]> = []): string {
  let text = readFileSync(join(EXAMPLE, name), 'utf8').replaceAll('examples/hbone/certs/', `${certs}/`);
  for (const [from, to] of swap) text = text.replaceAll(from, to);
  return text;
}

/** Both proxies, sharing one port map (15008 is the client's cluster and the server's listener). */
async function pair(options: { client?: ReadonlyArray<[string, string]>; server?: ReadonlyArray<[string, string]> } = {}) {
  const ports = new Map<number, number>([[8080, backendPort]]);
  const server = await serve(config('server.yaml', options.server), [], { ports });
  cleanups.push(server.cleanup);
  const client = await serve(config('client.yaml', options.client), [], { ports });
  cleanups.push(client.cleanup);
  const stats = async (admin: number, filter: string): Promise<string> => (await fetch(`http://127.0.0.1:${ports.get(admin) as number}/stats?filter=${encodeURIComponent(filter)}`)).text();
  return { ports, server, client, stats, front: ports.get(15001) as number, tlsListener: `listener.127.0.0.1_${ports.get(15008) as number}` };
}

async function curl(port: number): Promise<{ stdout: string; code: number }> {
  try {
    const { stdout } = await run(requirePeer('curl'), ['-sS', '--max-time', '15', `http://127.0.0.1:${port}/`], { timeout: 30_000 });
    return { stdout, code: 0 };
  } catch (error) {
    return { stdout: (error as { stdout?: string }).stdout ?? '', code: (error as { code?: number }).code ?? 1 };
  }
}

describe('examples/hbone: two il-proxies carry TCP in HTTP/2 CONNECT over mutual TLS, as Istio ambient does', () => {
  it('curl through the pair gets the backend; the server logs the client SPIFFE identity, TLS 1.3 both ways, ALPN h2', async () => {
    const p = await pair();
    expect((await curl(p.front)).stdout).toBe('hello from the backend');
    await waitFor(() => p.server.proxy.stdout().includes('tunnel from'), 10_000, 'the tunnel access log line');
    expect(p.server.proxy.stdout()).toMatch(new RegExp(`tunnel from ${CLIENT_ID} to 127\\.0\\.0\\.1:8080 200 - \\d+ \\d+ TLSv1\\.3\\n`));
    expect(await p.stats(15020, `${p.tlsListener}.ssl.(handshake|versions)`)).toMatch(/ssl\.handshake: 1\n[\s\S]*ssl\.versions\.TLSv1\.3: 1/);
    expect(await p.stats(15000, 'cluster.connect_originate.ssl.handshake')).toMatch(/: 1$/m);
    // The client logs the server's identity, read from the upstream connection's certificate.
    await waitFor(() => p.client.proxy.stdout().includes('tunnel to'), 10_000, "the client's access log line");
    expect(p.client.proxy.stdout()).toMatch(/tunnel to spiffe:\/\/cluster\.local\/ns\/default\/sa\/server at 127\.0\.0\.1:\d+ - \d+ \d+ TLSv1\.3\n/);
    expect(await p.stats(15020, 'http.connect_terminate.downstream_cx_http2_total')).toMatch(/: 1$/m);
  }, 60_000);

  it('a client with another identity (namespace other) is refused by the server and counted, and nothing reaches the backend', async () => {
    const p = await pair({ client: [['client.pem', 'intruder.pem'], ['client.key', 'intruder.key']] });
    const refused = await curl(p.front);
    expect(refused.stdout).not.toContain('hello from the backend');
    expect(await p.stats(15020, `${p.tlsListener}.ssl.fail_verify_san`)).toMatch(/: 1$/m);
    expect(await p.stats(15020, 'http.connect_terminate.downstream_rq_total')).toMatch(/: 0$/m);
  }, 60_000);

  it('a server with another identity is refused by the client (cluster ssl.fail_verify_san), before any byte of the app goes out', async () => {
    const p = await pair({ server: [['server.pem', 'intruder.pem'], ['server.key', 'intruder.key']] });
    expect((await curl(p.front)).stdout).toBe('');
    expect(await p.stats(15000, 'cluster.connect_originate.ssl.fail_verify_san')).toMatch(/: 1$/m);
    expect(await p.stats(15000, 'cluster.connect_originate.upstream_cx_connect_fail')).toMatch(/: 1$/m);
  }, 60_000);

  it('at most 100 streams per connection: 101 tunnels open at once ride two mTLS connections, and every one echoes', async () => {
    const p = await pair();
    const sockets: net.Socket[] = [];
    cleanups.push(() => sockets.forEach((s) => s.destroy()));
    // Each tunnel stays open (the backend echoes, and nobody ends), so all 101 streams are live at once.
    const echoed = Array.from({ length: 101 }, (_, i) => {
      const socket = net.connect(p.front, '127.0.0.1');
      sockets.push(socket);
      const word = `tunnel ${i}\n`;
      return new Promise<string>((resolve, reject) => {
        let got = '';
        socket.once('connect', () => socket.write(word));
        socket.on('data', (d: Buffer) => {
          got += d.toString();
          if (got.length >= word.length) resolve(got);
        });
        socket.once('error', reject);
      }).then((got) => expect(got).toBe(word));
    });
    await within(Promise.all(echoed), 60_000, '101 tunnels to echo');
    expect(await adminStat(p.ports.get(15000) as number, 'cluster.connect_originate.upstream_cx_total')).toBe(2);
    expect(await adminStat(p.ports.get(15000) as number, 'cluster.connect_originate.upstream_rq_active')).toBe(101);
    expect(await adminStat(p.ports.get(15020) as number, `${p.tlsListener}.downstream_cx_total`)).toBe(2);
    expect(await adminStat(p.ports.get(15020) as number, `${p.tlsListener}.ssl.handshake`)).toBe(2);
  }, 90_000);

  it('keepalive PINGs: a server that stops answering (SIGSTOP) has its connection closed after connection_keepalive.timeout, counted, and the tunnel on it closed', async () => {
    const p = await pair({ client: [['connection_keepalive: { interval: 10s, timeout: 20s }', 'connection_keepalive: { interval: 1s, timeout: 2s }']] });
    const socket = net.connect(p.front, '127.0.0.1');
    cleanups.push(() => void socket.destroy());
    socket.on('error', () => undefined);
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    const echoed = new Promise<void>((resolve) => socket.once('data', () => resolve()));
    socket.once('connect', () => socket.write('ping through\n'));
    await within(echoed, 30_000, 'the first echo through the tunnel');
    const serverPid = p.server.proxy.child.pid as number;
    process.kill(serverPid, 'SIGSTOP');
    cleanups.push(() => void process.kill(serverPid, 'SIGCONT'));
    // The kernel still takes the PING; only its ACK never comes.
    await within(closed, 30_000, 'the tunnel on the silent connection to be closed');
    process.kill(serverPid, 'SIGCONT');
    const admin = p.ports.get(15000) as number;
    expect(await adminStat(admin, 'cluster.connect_originate.http2.keepalive_timeout')).toBe(1);
    expect(await adminStat(admin, 'cluster.connect_originate.upstream_cx_active')).toBe(0);
    // The next tunnel gets a fresh connection and works.
    expect((await curl(p.front)).stdout).toBe('hello from the backend');
    expect(await adminStat(admin, 'cluster.connect_originate.upstream_cx_total')).toBe(2);
  }, 90_000);

  it('256 MiB each way through the pair, sha256-intact, behind a slow reader; each proxy stays under 200 MiB', async () => {
    const p = await pair();
    const size = 256 * MiB;
    const socket = net.connect({ port: p.front, host: '127.0.0.1', allowHalfOpen: true });
    const sent = createHash('sha256');
    const back = createHash('sha256');
    let received = 0;
    let budget = 0;
    const done = new Promise<void>((resolve, reject) => {
      socket.on('data', (chunk: Buffer) => {
        back.update(chunk);
        received += chunk.length;
        budget += chunk.length;
        if (budget >= 4 * MiB) {
          // The slow reader: it takes its time with each 4 MiB (a pace, not a wait for an event).
          budget = 0;
          socket.pause();
          setTimeout(() => socket.resume(), 10);
        }
      });
      socket.once('end', () => resolve());
      socket.once('error', reject);
    });
    let written = 0;
    const pump = (): void => {
      while (written < size) {
        const chunk = randomBytes(256 * 1024);
        sent.update(chunk);
        written += chunk.length;
        if (!socket.write(chunk)) {
          socket.once('drain', pump);
          return;
        }
      }
      socket.end();
    };
    socket.once('connect', pump);
    await within(done, 240_000, '256 MiB each way through the HBONE pair');
    expect(received).toBe(size);
    expect(back.digest('hex')).toBe(sent.digest('hex'));
    for (const proxy of [p.client.proxy, p.server.proxy]) expect(residentMiB(proxy.child.pid as number).peak).toBeLessThan(200);
  }, 300_000);
});
