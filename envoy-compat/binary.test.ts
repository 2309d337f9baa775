/**
 * Envoy's own example configs run through the il-proxy binary, as a user would run them:
 * every one validates, and the ones that only talk to 127.0.0.1 serve with their ports
 * remapped to free ones and behave as Envoy does.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { MAIN, requireBuild, serve } from '../apps/proxy/test/il-proxy-process.js';
import { ENVOY_CONFIGS, envoyConfig, envoyConfigFiles } from '../test-support/envoy-configs.js';
import { requirePeer } from '../test-support/peers.js';

const run = promisify(execFile);
const CONFIGS = ENVOY_CONFIGS;
const configFiles = envoyConfigFiles;

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('il-proxy --mode validate on every Envoy example config', () => {
  requireBuild();
  for (const file of configFiles()) {
    it(`${file} validates`, async () => {
      const { stdout } = await run(process.execPath, [MAIN, '--mode', 'validate', '-c', join(CONFIGS, file)]);
      expect(stdout).toContain(`configuration '${join(CONFIGS, file)}' OK`);
    });
  }
});

describe('il-proxy serving Envoy example configs (ports remapped)', () => {
  it('internal_listener_proxy.yaml: 9999 -> internal listener encap -> 10000 carries bytes both ways', async () => {
    const { ports, cleanup } = await serve(envoyConfig('internal_listener_proxy.yaml'));
    cleanups.push(cleanup);
    const upstream = net.createServer((socket) => socket.pipe(socket));
    await new Promise<void>((done) => upstream.listen(ports.get(10000), '127.0.0.1', done));
    cleanups.push(() => new Promise<void>((done) => upstream.close(() => done())));
    const client = net.connect(ports.get(9999) as number, '127.0.0.1');
    const chunks: Buffer[] = [];
    client.on('data', (d: Buffer) => chunks.push(d));
    client.end('through the internal listener');
    await new Promise((done) => client.once('end', done));
    expect(Buffer.concat(chunks).toString()).toBe('through the internal listener');
    const stats = await (await fetch(`http://127.0.0.1:${ports.get(9904)}/stats`)).text();
    expect(stats).toContain('listener.envoy_internal_encap.downstream_cx_total: 1');
    expect(stats).toContain('tcp.encap.downstream_cx_total: 1');
  });
});

/** A TCP echo server on a fixed port. */
async function echo(port: number): Promise<void> {
  const server = net.createServer({ allowHalfOpen: true }, (socket) => socket.pipe(socket));
  await new Promise<void>((done) => server.listen(port, '127.0.0.1', done));
  cleanups.push(() => new Promise<void>((done) => server.close(() => done())));
}

/**
 * Sends `payload` through a TCP port and returns the echo. The client reads the whole echo
 * before it sends FIN: an HTTP/1.1 tunnel cannot half-close, so in Envoy (and here) a FIN closes
 * the tunnel's connection and whatever had not come back yet is lost (envoy-behavior.md §3.9).
 */
async function roundTrip(port: number, payload: Buffer): Promise<Buffer> {
  const client = net.connect(port, '127.0.0.1');
  const chunks: Buffer[] = [];
  let received = 0;
  const echoed = new Promise<void>((done) => {
    client.on('data', (d: Buffer) => {
      chunks.push(d);
      received += d.length;
      if (received >= payload.length) done();
    });
  });
  client.write(payload);
  await echoed;
  const closed = new Promise((done) => client.once('close', done));
  client.end();
  client.resume();
  await closed;
  return Buffer.concat(chunks);
}

async function curl(args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await run(requirePeer('curl'), ['-sS', '--max-time', '20', ...args], { timeout: 30_000 });
    return { stdout, stderr, code: 0 };
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; code?: number };
    return { stdout: e.stdout ?? '', stderr: e.stderr ?? '', code: e.code ?? -1 };
  }
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('il-proxy serving Envoy\'s HTTP and tunneling configs (ports remapped)', () => {
  it('encapsulate_http_in_http2_connect.yaml + terminate_http_in_http2_connect.yaml: curl through both prints "Hello, world!"', async () => {
    const ports = new Map<number, number>();
    const decap = await serve(envoyConfig('terminate_http_in_http2_connect.yaml'), [], { ports });
    cleanups.push(decap.cleanup);
    const encap = await serve(envoyConfig('encapsulate_http_in_http2_connect.yaml'), [], { ports });
    cleanups.push(encap.cleanup);
    const { stdout } = await curl([`http://127.0.0.1:${ports.get(10000)}/`]);
    expect(stdout).toBe('Hello, world!\n');
  });

  it('proxy_connect.yaml: CONNECT on 10001 is terminated and its payload reaches 127.0.0.1:10002 (curl -p -x)', async () => {
    const { ports, cleanup } = await serve(envoyConfig('proxy_connect.yaml'));
    cleanups.push(cleanup);
    const target = http.createServer((req, res) => res.end(`reached 10002 for ${req.url}`));
    await new Promise<void>((done) => target.listen(ports.get(10002), '127.0.0.1', done));
    cleanups.push(() => new Promise<void>((done) => target.close(() => done())));
    const { stdout } = await curl(['-p', '-x', `http://127.0.0.1:${ports.get(10001)}`, 'http://anywhere.test/inside']);
    expect(stdout).toBe('reached 10002 for /inside');
  });

  for (const [config, via] of [
    ['encapsulate_in_http2_connect.yaml', 'HTTP/2 CONNECT'],
    ['encapsulate_in_http1_connect.yaml', 'HTTP/1.1 CONNECT'],
  ] as const) {
    it(`${config} + proxy_connect.yaml: raw TCP on 10000 crosses a ${via} tunnel to an echo on 10002`, async () => {
      const ports = new Map<number, number>();
      const terminator = await serve(envoyConfig('proxy_connect.yaml'), [], { ports });
      cleanups.push(terminator.cleanup);
      await echo(ports.get(10002) as number);
      const encap = await serve(envoyConfig(config), [], { ports });
      cleanups.push(encap.cleanup);
      const payload = randomBytes(4 * 1024 * 1024);
      expect(sha(await roundTrip(ports.get(10000) as number, payload))).toBe(sha(payload));
    });
  }

  it('encapsulate_in_http2_post.yaml: raw TCP on 10000 travels as an HTTP/2 POST body to 10001 and back', async () => {
    const { ports, cleanup } = await serve(envoyConfig('encapsulate_in_http2_post.yaml'));
    const seen: Array<Record<string, unknown>> = [];
    const terminator = http2.createServer();
    const sessions = new Set<http2.ServerHttp2Session>();
    terminator.on('session', (session) => sessions.add(session));
    terminator.on('stream', (stream, headers) => {
      seen.push({ method: headers[':method'], authority: headers[':authority'], path: headers[':path'] });
      stream.respond({ ':status': 200 });
      stream.pipe(stream);
    });
    await new Promise<void>((done) => terminator.listen(ports.get(10001), '127.0.0.1', done));
    // il-proxy keeps its pooled HTTP/2 session open (as Envoy does): close the sessions too.
    cleanups.push(() => new Promise<void>((done) => {
      for (const session of sessions) session.destroy();
      terminator.close(() => done());
    }));
    cleanups.push(cleanup);
    const payload = randomBytes(1024 * 1024);
    expect(sha(await roundTrip(ports.get(10000) as number, payload))).toBe(sha(payload));
    expect(seen).toEqual([{ method: 'POST', authority: 'host.com:443', path: '/' }]);
  });

  it('terminate_http2_connect.yaml: with no route to www.google.com, a CONNECT gets 503 as Envoy gives offline', async () => {
    const { ports, cleanup } = await serve(envoyConfig('terminate_http2_connect.yaml'));
    cleanups.push(cleanup);
    const { stderr, code } = await curl(['-p', '-x', `http://127.0.0.1:${ports.get(10001)}`, 'https://www.google.com/']);
    expect(code).not.toBe(0);
    expect(stderr).toMatch(/503/);
  });
});
