// The seed's whole picture with the il-proxy binary: plain HTTP on one side, an HTTP/2 CONNECT
// tunnel in the middle, HTTP answered on the other side, through two internal listeners.
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { Pool, request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { requirePeer } from '../../../test-support/peers.js';
import { freePort } from '../../../test-support/ports.js';
import { serve } from './il-proxy-process.js';

const run = promisify(execFile);
const example = (name: string): string => readFileSync(new URL(`../../../examples/${name}`, import.meta.url), 'utf8');

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function curl(url: string, extra: string[] = []): Promise<string> {
  const bin = requirePeer('curl');
  const { stdout } = await run(bin, ['-sS', '--max-time', '20', ...extra, url], { timeout: 30_000 });
  return stdout;
}

/** 1,000 GETs over 50 connections at once; every answer must be the decap side's. */
async function thousandRequests(port: number): Promise<void> {
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: 50, pipelining: 1 });
  cleanups.push(() => pool.close());
  let next = 0;
  const bodies: string[] = [];
  await Promise.all(
    Array.from({ length: 50 }, async () => {
      while (next < 1000) {
        const i = next++;
        const response = await pool.request({ method: 'GET', path: `/r${i}` });
        expect(response.statusCode).toBe(200);
        bodies.push(await response.body.text());
      }
    }),
  );
  expect(bodies).toHaveLength(1000);
  expect(new Set(bodies)).toEqual(new Set(['Hello, world!\n']));
}

describe('HTTP in an HTTP/2 CONNECT tunnel (examples/)', () => {
  it('encap.yaml and decap.yaml as two processes: curl gets "Hello, world!" and 1,000 requests over 50 connections all succeed', async () => {
    const ports = new Map<number, number>();
    const decap = await serve(example('decap.yaml'), [], { ports });
    cleanups.push(decap.cleanup);
    const encap = await serve(example('encap.yaml'), [], { ports });
    cleanups.push(encap.cleanup);
    const front = ports.get(10000) as number;
    expect(await curl(`http://127.0.0.1:${front}/`)).toBe('Hello, world!\n');
    await thousandRequests(front);
    // The requests really crossed the tunnel: the decap process terminated CONNECT streams.
    const stats = await (await fetch(`http://127.0.0.1:${ports.get(9902)}/stats`)).text();
    expect(stats).toMatch(/http\.connect\.downstream_cx_upgrades_total: [1-9]/);
    expect(stats).toMatch(/listener\.envoy_internal_decap\.downstream_cx_total: [1-9]/);
  });

  it('tunnel.yaml in one process: curl gets "Hello, world!", 1,000 requests over 50 connections succeed, and the decap half alone answers curl -p -x', async () => {
    const { ports, cleanup } = await serve(example('tunnel.yaml'));
    cleanups.push(cleanup);
    expect(await curl(`http://127.0.0.1:${ports.get(10000)}/`)).toBe('Hello, world!\n');
    await thousandRequests(ports.get(10000) as number);
    expect(await curl('http://host.com/', ['-p', '-x', `http://127.0.0.1:${ports.get(10001)}`])).toBe('Hello, world!\n');
    const stats = await (await fetch(`http://127.0.0.1:${ports.get(9901)}/stats`)).text();
    expect(stats).toMatch(/tcp\.encap\.downstream_cx_total: [1-9]/);
    expect(stats).toMatch(/cluster\.tunnel\.upstream_rq_total: [1-9]/);
  });

  it('a 256 MiB POST body and a 256 MiB response cross the tunnel intact (sha256)', async () => {
    const MiB = 1024 * 1024;
    const SIZE = 256 * MiB;
    // The decap side forwards to a backend instead of answering itself.
    const backendPort = await freePort();
    const text = example('tunnel.yaml')
      .replace(
        /- match: \{ prefix: "\/" \}\n\s+direct_response:\n\s+status: 200\n\s+body: \{ inline_string: "Hello, world!\\n" \}/,
        '- match: { prefix: "/" }\n                route: { cluster: backend, timeout: 0s }',
      )
      .replace('route: { cluster: encap_cluster }', 'route: { cluster: encap_cluster, timeout: 0s }')
      .replace(
        '  clusters:\n',
        `  clusters:\n  - name: backend\n    load_assignment:\n      cluster_name: backend\n      endpoints:\n      - lb_endpoints:\n        - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${backendPort} } } }\n\n`,
      );
    expect(text).toContain('cluster: backend');
    const block = randomBytes(MiB);
    /** The n-th MiB of the response: the block with its index stamped in, so chunks are unique. */
    const responseChunk = (n: number): Buffer => {
      const chunk = Buffer.from(block);
      chunk.writeUInt32BE(n, 0);
      return chunk;
    };
    const backend = http.createServer((req, res) => {
      if (req.method === 'POST') {
        const hash = createHash('sha256');
        let length = 0;
        req.on('data', (d: Buffer) => {
          hash.update(d);
          length += d.length;
        });
        req.on('end', () => res.end(JSON.stringify({ length, sha256: hash.digest('hex') })));
        return;
      }
      res.writeHead(200, { 'content-length': String(SIZE) });
      Readable.from((function* () {
        for (let n = 0; n < SIZE / MiB; n++) yield responseChunk(n);
      })()).pipe(res);
    });
    await new Promise<void>((resolve) => backend.listen(backendPort, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => backend.close(() => resolve())));
    const { ports, cleanup } = await serve(text, [], { ports: new Map([[backendPort, backendPort]]) });
    cleanups.push(cleanup);
    const origin = `http://127.0.0.1:${ports.get(10000)}`;

    const uploaded = createHash('sha256');
    const upload = await request(`${origin}/upload`, {
      method: 'POST',
      headers: { 'content-length': String(SIZE) },
      body: Readable.from((function* () {
        for (let n = 0; n < SIZE / MiB; n++) {
          const chunk = randomBytes(MiB);
          uploaded.update(chunk);
          yield chunk;
        }
      })()),
      headersTimeout: 120_000,
      bodyTimeout: 120_000,
    });
    expect(upload.statusCode).toBe(200);
    expect(JSON.parse(await upload.body.text())).toEqual({ length: SIZE, sha256: uploaded.digest('hex') });

    const expected = createHash('sha256');
    for (let n = 0; n < SIZE / MiB; n++) expected.update(responseChunk(n));
    const download = await request(`${origin}/download`, { headersTimeout: 120_000, bodyTimeout: 120_000 });
    expect(download.statusCode).toBe(200);
    const received = createHash('sha256');
    let length = 0;
    for await (const chunk of download.body) {
      received.update(chunk as Buffer);
      length += (chunk as Buffer).length;
    }
    expect(length).toBe(SIZE);
    expect(received.digest('hex')).toBe(expected.digest('hex'));
  }, 300_000);
});
