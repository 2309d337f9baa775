// auto_config: a cluster that speaks HTTP/2 or HTTP/1.1 to each host as ALPN decides on the first
// connection, which is then reused for the requests that waited for it. The upstreams are TLS
// servers offering h2 and http/1.1, only http/1.1, or (openssl s_server) no ALPN at all.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import type tls from 'node:tls';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makePki, type Leaf, type Pki } from '../../../test-support/pki.js';
import { freePort, waitForListening } from '../../../test-support/ports.js';
import { requirePeer } from '../../../test-support/peers.js';
import { within } from '../../../test-support/wait.js';
import { adminStat, serve } from './il-proxy-process.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

let pki: Pki;
let leaf: Leaf;

interface Upstream {
  readonly port: number;
  /** TLS connections accepted, with the protocol ALPN chose on each ('' for none). */
  readonly accepted: string[];
}

/** Answers `<httpVersion> <sha256 of the body>`. */
function answer(req: http.IncomingMessage | http2.Http2ServerRequest, res: http.ServerResponse | http2.Http2ServerResponse): void {
  const hash = createHash('sha256');
  req.on('data', (chunk: Buffer) => hash.update(chunk));
  req.on('end', () => res.end(`${req.httpVersion} ${hash.digest('hex')}`));
}

async function upstream(kind: 'h2 and http/1.1' | 'http/1.1 only', at?: number): Promise<Upstream> {
  const accepted: string[] = [];
  const credentials = { cert: readFileSync(leaf.cert), key: readFileSync(leaf.key) };
  const server =
    kind === 'h2 and http/1.1'
      ? http2.createSecureServer({ ...credentials, allowHTTP1: true }, answer)
      : https.createServer({ ...credentials, ALPNProtocols: ['http/1.1'] }, answer);
  const sockets = new Set<tls.TLSSocket>();
  server.on('secureConnection', (socket: tls.TLSSocket) => {
    accepted.push(typeof socket.alpnProtocol === 'string' ? socket.alpnProtocol : '');
    sockets.add(socket);
  });
  const port = at ?? (await freePort());
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  );
  return { port, accepted };
}

beforeAll(() => {
  pki = makePki();
  leaf = pki.leaf('upstream', { dns: ['upstream.test'] });
});

function config(port: number): string {
  return `admin: { address: { socket_address: { address: 127.0.0.1, port_value: 9901 } } }
static_resources:
  listeners:
  - name: http
    address: { socket_address: { address: 127.0.0.1, port_value: 10000 } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: http
          route_config: { virtual_hosts: [{ name: all, domains: ["*"], routes: [{ match: { prefix: / }, route: { cluster: auto } }] }] }
          http_filters: [{ name: envoy.filters.http.router, typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router } }]
  clusters:
  - name: auto
    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        auto_config: {}
    transport_socket:
      name: envoy.transport_sockets.tls
      typed_config:
        "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
        sni: upstream.test
        common_tls_context: { validation_context: { trusted_ca: { filename: ${pki.ca} } } }
    load_assignment: { cluster_name: auto, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${port} } } } }] }] }
`;
}

/** A POST of `body` through the proxy; resolves with the status and the answer. */
function post(port: number, body: Buffer): Promise<{ status: number; text: string }> {
  return within(
    new Promise((resolve, reject) => {
      const req = http.request({ port, host: '127.0.0.1', method: 'POST', path: '/', headers: { 'content-length': body.length } }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      });
      req.on('error', reject);
      req.end(body);
    }),
    30_000,
    'the answer to a POST',
  );
}

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

async function start(target: Upstream) {
  const proxy = await serve(config(target.port), [], { ports: new Map([[target.port, target.port]]) });
  cleanups.push(proxy.cleanup);
  const stat = (name: string): Promise<number> => adminStat(proxy.ports.get(9901) as number, name);
  return { port: proxy.ports.get(10000) as number, stat };
}

describe('auto_config: HTTP/2 or HTTP/1.1 by ALPN', () => {
  it('a server offering h2 gets HTTP/2; 8 requests that arrive together, bodies held while the first connection negotiates, share that one connection', async () => {
    const target = await upstream('h2 and http/1.1');
    const proxy = await start(target);
    const bodies = Array.from({ length: 8 }, () => randomBytes(256 * 1024));
    const answers = await Promise.all(bodies.map((body) => post(proxy.port, body)));
    answers.forEach((a, i) => expect(a).toEqual({ status: 200, text: `2.0 ${sha256(bodies[i] as Buffer)}` }));
    expect(target.accepted).toEqual(['h2']);
    expect(await proxy.stat('cluster.auto.upstream_cx_total')).toBe(1);
    expect(await proxy.stat('cluster.auto.upstream_cx_http2_total')).toBe(1);
    // Later requests go straight to the HTTP/2 pool.
    const later = randomBytes(1024);
    expect(await post(proxy.port, later)).toEqual({ status: 200, text: `2.0 ${sha256(later)}` });
    expect(target.accepted).toEqual(['h2']);
  }, 60_000);

  it('a server that picks http/1.1 gets HTTP/1.1 on the connection that negotiated it', async () => {
    const target = await upstream('http/1.1 only');
    const proxy = await start(target);
    for (let i = 0; i < 3; i++) {
      const body = randomBytes(64 * 1024);
      expect(await post(proxy.port, body)).toEqual({ status: 200, text: `1.1 ${sha256(body)}` });
    }
    expect(target.accepted).toEqual(['http/1.1']);
    expect(await proxy.stat('cluster.auto.upstream_cx_total')).toBe(1);
  }, 60_000);

  it('a server that selects no ALPN protocol (openssl s_server -www) is spoken to in HTTP/1.1', async () => {
    const port = await freePort();
    const openssl = requirePeer('openssl');
    const child = spawn(openssl, ['s_server', '-accept', String(port), '-cert', leaf.cert, '-key', leaf.key, '-www', '-quiet'], { stdio: 'ignore' });
    cleanups.push(() => void child.kill('SIGKILL'));
    await waitForListening(port, 'openssl s_server');
    const proxy = await start({ port, accepted: [] });
    const res = await fetch(`http://127.0.0.1:${proxy.port}/`);
    expect(res.status).toBe(200);
    // s_server -www answers GET / with a page describing the TLS session it served: no ALPN.
    const page = await res.text();
    expect(page).toMatch(/s_server -accept \d+ .* -www/);
    expect(page).not.toMatch(/ALPN protocol: h2/);
    expect(await proxy.stat('cluster.auto.upstream_cx_http1_total')).toBe(1);
    expect(await proxy.stat('cluster.auto.upstream_cx_http2_total')).toBe(0);
  }, 60_000);

  it('a first connection that fails is a 503 and decides nothing: the next request probes again', async () => {
    const port = await freePort();
    const proxy = await start({ port, accepted: [] });
    const refused = await post(proxy.port, Buffer.from('x'));
    expect(refused.status).toBe(503);
    expect(refused.text).toMatch(/upstream connect error or disconnect\/reset before headers\. reset reason: connection failure/);
    const target = await upstream('h2 and http/1.1', port);
    const body = randomBytes(1024);
    expect(await post(proxy.port, body)).toEqual({ status: 200, text: `2.0 ${sha256(body)}` });
    expect(target.accepted).toEqual(['h2']);
  }, 60_000);
});

