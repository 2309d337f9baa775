// auto_sni and auto_san_validation (a cluster's upstream_http_protocol_options): each request's host
// becomes the upstream connection's SNI and the name its certificate must carry, and connections
// for different names never share a pool. The upstream is a TLS server that picks its certificate
// by SNI and answers with the server name it was asked for.
import http from 'node:http';
import http2 from 'node:http2';
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makePki, type Leaf, type Pki } from '../../../test-support/pki.js';
import { freePort } from '../../../test-support/ports.js';
import { within } from '../../../test-support/wait.js';
import { adminStat, serve } from './il-proxy-process.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

let pki: Pki;
let alpha: Leaf;
let beta: Leaf;
let upstreamPort: number;
/** Server names of the TLS connections the upstream accepted, in order ('' for none). */
const accepted: string[] = [];
let upstream: http2.Http2SecureServer;

beforeAll(async () => {
  pki = makePki();
  alpha = pki.leaf('alpha', { dns: ['alpha.test'], ip: ['127.0.0.1'] });
  beta = pki.leaf('beta', { dns: ['beta.test'] });
  const contexts = new Map([
    ['alpha.test', tls.createSecureContext({ cert: readFileSync(alpha.cert), key: readFileSync(alpha.key) })],
    ['beta.test', tls.createSecureContext({ cert: readFileSync(beta.cert), key: readFileSync(beta.key) })],
  ]);
  // Unknown names (and no SNI) get alpha's certificate.
  upstream = http2.createSecureServer(
    {
      cert: readFileSync(alpha.cert),
      key: readFileSync(alpha.key),
      allowHTTP1: true,
      SNICallback: (name, done) => done(null, contexts.get(name)),
    },
    (req, res) => {
      const socket = req.socket as unknown as tls.TLSSocket;
      const servername = typeof socket.servername === 'string' ? socket.servername : '';
      res.end(`sni=${servername} host=${req.headers[':authority'] ?? req.headers.host ?? ''} via=${req.httpVersion}`);
    },
  );
  upstream.on('secureConnection', (socket: tls.TLSSocket) => accepted.push(typeof socket.servername === 'string' ? socket.servername : ''));
  upstream.on('tlsClientError', () => undefined);
  upstreamPort = await freePort();
  await new Promise<void>((resolve) => upstream.listen(upstreamPort, '127.0.0.1', resolve));
});
afterAll(async () => {
  await new Promise<void>((resolve) => upstream.close(() => resolve()));
});

function config(protocol: 'http1' | 'http2'): string {
  const explicit = protocol === 'http2' ? 'http2_protocol_options: {}' : 'http_protocol_options: {}';
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
          route_config: { virtual_hosts: [{ name: all, domains: ["*"], routes: [{ match: { prefix: / }, route: { cluster: by_host } }] }] }
          http_filters: [{ name: envoy.filters.http.router, typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router } }]
  clusters:
  - name: by_host
    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        upstream_http_protocol_options: { auto_sni: true, auto_san_validation: true, override_auto_sni_header: X-Upstream-Sni }
        explicit_http_config: { ${explicit} }
    transport_socket:
      name: envoy.transport_sockets.tls
      typed_config:
        "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
        common_tls_context: { validation_context: { trusted_ca: { filename: ${pki.ca} } } }
    load_assignment: { cluster_name: by_host, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${upstreamPort} } } } }] }] }
`;
}

/** One GET through the proxy with the given Host (and extra headers). */
function get(port: number, host: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return within(
    new Promise((resolve, reject) => {
      const req = http.request({ port, host: '127.0.0.1', path: '/', headers: { host, ...headers } }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    }),
    20_000,
    `the answer for host ${host}`,
  );
}

async function start(protocol: 'http1' | 'http2') {
  accepted.length = 0;
  const proxy = await serve(config(protocol), [], { ports: new Map([[upstreamPort, upstreamPort]]) });
  cleanups.push(proxy.cleanup);
  const stat = (name: string): Promise<number> => adminStat(proxy.ports.get(9901) as number, name);
  return { port: proxy.ports.get(10000) as number, stat };
}

describe.each(['http1', 'http2'] as const)('auto_sni and auto_san_validation over %s', (protocol) => {
  const via = protocol === 'http2' ? '2.0' : '1.1';

  it("sends each request's host as SNI (port stripped, the override header first, none for an IP) and keeps one pool per name", async () => {
    const proxy = await start(protocol);
    expect(await get(proxy.port, 'alpha.test')).toEqual({ status: 200, body: `sni=alpha.test host=alpha.test via=${via}` });
    expect(await get(proxy.port, 'beta.test:8443')).toEqual({ status: 200, body: `sni=beta.test host=beta.test:8443 via=${via}` });
    expect(await get(proxy.port, 'alpha.test')).toEqual({ status: 200, body: `sni=alpha.test host=alpha.test via=${via}` });
    expect(await get(proxy.port, 'alpha.test', { 'x-upstream-sni': 'beta.test' })).toEqual({ status: 200, body: `sni=beta.test host=alpha.test via=${via}` });
    // An IP is not a server name: no SNI, and the certificate must carry the IP (alpha's does).
    expect(await get(proxy.port, '127.0.0.1')).toEqual({ status: 200, body: `sni= host=127.0.0.1 via=${via}` });
    // alpha.test's second request reused its connection; beta.test's override joined beta's pool.
    expect(accepted).toEqual(['alpha.test', 'beta.test', '']);
    expect(await proxy.stat('cluster.by_host.upstream_cx_total')).toBe(3);
    expect(await proxy.stat('cluster.by_host.ssl.handshake')).toBe(3);
  }, 60_000);

  it("refuses an upstream whose certificate is not for the request's host: 503, ssl.fail_verify_san, and other names go on", async () => {
    const proxy = await start(protocol);
    // gamma.test is unknown to the upstream, which answers with alpha's certificate.
    const refused = await get(proxy.port, 'gamma.test');
    expect(refused.status).toBe(503);
    expect(refused.body).toMatch(/upstream connect error or disconnect\/reset before headers/);
    expect(await proxy.stat('cluster.by_host.ssl.fail_verify_san')).toBe(1);
    expect(await get(proxy.port, 'beta.test')).toEqual({ status: 200, body: `sni=beta.test host=beta.test via=${via}` });
  }, 60_000);
});
