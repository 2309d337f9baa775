// Real clients nobody here wrote against the connection manager: curl's HTTP/1.1 CONNECT tunnel
// (`curl -p -x`), nghttp and h2load for plain HTTP/2 requests, and a python3-h2 client doing an
// HTTP/2 CONNECT with an HTTP/1.1 GET inside. Each fails with the Debian package to install when
// its program is missing.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { requirePeer } from '../../../test-support/peers.js';
import { cluster, hcmConfig } from './hcm-config.js';
import { example, httpBackend, startProxy } from './hcm-harness.js';

const run = promisify(execFile);
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const H2_CLIENT = fileURLToPath(new URL('./fixtures/h2_client.py', import.meta.url));

/** An HCM (AUTO codec) that routes everything to a Node HTTP/1.1 backend. */
function routerConfig(backendPort: number): string {
  return hcmConfig({ routes: '- { match: { prefix: "/" }, route: { cluster: backend } }', clusters: cluster('backend', backendPort) });
}

async function echoBackend() {
  const backend = await httpBackend((req, res) => {
    const body = `${req.method ?? ''} ${req.url ?? ''} via ${String(req.headers['x-forwarded-proto'])}\n`;
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  cleanups.push(backend.close);
  return backend;
}

describe('real clients', () => {
  it('curl -p -x: an HTTP/1.1 CONNECT tunnel through examples/decap.yaml, then HTTP inside', async () => {
    const curl = requirePeer('curl');
    const proxy = await startProxy(example('decap.yaml'));
    cleanups.push(() => proxy.close());
    const { stdout, stderr } = await run(curl, ['-sS', '--max-time', '10', '-v', '-p', '-x', `http://127.0.0.1:${proxy.port(10001)}`, 'http://target.example/'], { timeout: 15_000 });
    expect(stdout).toBe('Hello, world!\n');
    expect(stderr).toMatch(/CONNECT target\.example:80 HTTP\/1\.1/);
    expect(stderr).toMatch(/HTTP\/1\.1 200 OK/);
    expect(proxy.stat('http.connect.downstream_cx_upgrades_total')).toBe(1);
    expect(proxy.stat('http.decap.downstream_rq_2xx')).toBe(1);
  });

  it('nghttp: HTTP/2 (prior knowledge) requests routed to a Node backend', async () => {
    const nghttp = requirePeer('nghttp');
    const backend = await echoBackend();
    const proxy = await startProxy(routerConfig(backend.port), { remap: false });
    cleanups.push(() => proxy.close());
    const port = proxy.listenerPort('http');
    const { stdout } = await run(nghttp, ['-v', '--timeout=10', `http://127.0.0.1:${port}/hello?x=1`], { timeout: 15_000 });
    expect(stdout).toContain('GET /hello?x=1 via http\n');
    expect(stdout).toMatch(/:status: 200/);
    expect(stdout).toMatch(/server: envoy/);
    expect(stdout).toMatch(/x-envoy-upstream-service-time: \d+/);
    expect(proxy.stat('http.ingress.downstream_cx_http2_total')).toBe(1);
    expect(proxy.stat('http.ingress.downstream_rq_2xx')).toBe(1);
  });

  it('h2load: many concurrent HTTP/2 streams, every one answered', async () => {
    const h2load = requirePeer('h2load');
    const backend = await echoBackend();
    const proxy = await startProxy(routerConfig(backend.port), { remap: false });
    cleanups.push(() => proxy.close());
    const port = proxy.listenerPort('http');
    const { stdout } = await run(h2load, ['-n', '400', '-c', '4', '-m', '16', `http://127.0.0.1:${port}/load`], { timeout: 30_000 });
    expect(stdout).toMatch(/requests: 400 total, 400 started, 400 done, 400 succeeded, 0 failed, 0 errored/);
    expect(stdout).toMatch(/status codes: 400 2xx/);
    expect(proxy.stat('http.ingress.downstream_rq_2xx')).toBe(400);
    expect(proxy.stat('cluster.backend.upstream_rq_200')).toBe(400);
  });

  it('python3-h2: an HTTP/2 CONNECT through examples/decap.yaml with an HTTP/1.1 GET inside', async () => {
    const python = requirePeer('python3-h2');
    const proxy = await startProxy(example('decap.yaml'));
    cleanups.push(() => proxy.close());
    const { stdout } = await run(python, [H2_CLIENT, 'connect', String(proxy.port(10001)), 'host.com:443'], { timeout: 15_000 });
    const result = JSON.parse(stdout) as { status: number; body: string; end: string };
    expect(result.status).toBe(200);
    expect(result.body).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(result.body).toContain('\r\n\r\nHello, world!\n');
    // Its END_STREAM half-closes the tunnel; the internal listener's HCM sees the client's FIN
    // and closes, which ends the stream cleanly.
    expect(result.end).toBe('end_stream');
  });
});
