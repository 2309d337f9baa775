// Envoy's local replies through the connection manager, with their bodies, response flags, details
// and stats: 404 NR, 503 UH / UF / UO / UC, 504 UT, direct responses and redirects, header
// mutations, request ids and forwarding headers, and the access log line each one leaves.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, afterAll, describe, expect, it } from 'vitest';
import { request, type Protocol } from './hcm-clients.js';
import { cluster, hcmConfig } from './hcm-config.js';
import { closedPort, httpBackend, startProxy, waitFor, type RunningProxy } from './hcm-harness.js';
import { h1Tunnel, h2Tunnel } from './hcm-tunnel-clients.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

let proxy: RunningProxy;
let port: number;
let logDir: string;
const finish: Array<() => Promise<void> | void> = [];

/** A backend whose paths misbehave on purpose. */
async function trickyBackend(): Promise<number> {
  const server = await httpBackend((req: http.IncomingMessage, res: http.ServerResponse) => {
    const path = req.url ?? '/';
    if (path.startsWith('/slow') || path.startsWith('/overflow')) {
      setTimeout(() => {
        if (!res.destroyed) res.end('late');
      }, 1500);
    } else if (path.includes('/reset-before')) {
      req.socket.destroy();
    } else if (path.includes('/reset-after')) {
      res.writeHead(200, { 'content-length': '100' });
      res.write('partial');
      setTimeout(() => req.socket.destroy(), 50);
    } else if (path.startsWith('/server')) {
      res.writeHead(200, { server: 'backend/1.0' });
      res.end('ok');
    } else {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ path, headers: req.headers }));
    }
  });
  finish.push(server.close);
  return server.port;
}

beforeAll(async () => {
  logDir = mkdtempSync(join(tmpdir(), 'il-local-'));
  const backendPort = await trickyBackend();
  const closed = await closedPort();
  proxy = await startProxy(
    hcmConfig({
      logPath: join(logDir, 'access.log'),
      hcm: 'via: il-test\nupgrade_configs: [ { upgrade_type: CONNECT } ]',
      virtualHost: `request_headers_to_add: [ { header: { key: x-vh, value: vh } } ]
response_headers_to_add: [ { header: { key: x-vh-resp, value: "%PROTOCOL%" } } ]`,
      routes: `
- name: nohost
  match: { prefix: "/nohost" }
  route: { cluster: empty }
- name: closed
  match: { prefix: "/closed" }
  route: { cluster: closed }
- name: slow
  match: { prefix: "/slow" }
  route: { cluster: backend, timeout: 0.2s }
- name: overflow
  match: { prefix: "/overflow" }
  route: { cluster: limited }
- name: direct
  match: { path: "/direct" }
  direct_response: { status: 200, body: { inline_string: "direct\\n" } }
  response_headers_to_add: [ { header: { key: x-route-resp, value: direct } } ]
- name: created
  match: { path: "/created" }
  direct_response: { status: 201 }
- name: redirect
  match: { path: "/redirect" }
  redirect: { host_redirect: example.com, response_code: FOUND }
- name: connect-prefix
  match: { prefix: "/" , headers: [ { name: ":method", string_match: { exact: CONNECT } } ] }
  route: { cluster: backend }
- name: mutate
  match: { prefix: "/mutate" }
  route: { cluster: backend, prefix_rewrite: "/rewritten", host_rewrite_literal: rewritten.example }
  request_headers_to_add: [ { header: { key: x-added, value: "%REQ(:METHOD)%" } } ]
  request_headers_to_remove: [ x-drop-me ]
  response_headers_to_add: [ { header: { key: x-route-resp, value: mutate } } ]
- name: backend
  match: { prefix: "/b/" }
  route: { cluster: backend }
`,
      clusters: `
- name: empty
  load_assignment: { cluster_name: empty, endpoints: [] }
${cluster('closed', closed)}
${cluster('backend', backendPort)}
${cluster('limited', backendPort, { extra: 'circuit_breakers: { thresholds: [ { priority: DEFAULT, max_requests: 1 } ] }' })}
`,
    }),
    { remap: false },
  );
  port = proxy.listenerPort('http');
});

afterAll(async () => {
  await proxy.close();
  for (const f of finish) await f();
  rmSync(logDir, { recursive: true, force: true });
});

describe.each<Protocol>(['HTTP1', 'HTTP2'])('local replies (%s)', (protocol) => {
  it('404 with an empty body when no route matches (NR)', async () => {
    const before = proxy.stat('http.ingress.no_route') ?? 0;
    const response = await request(protocol, port, { path: '/nowhere' });
    expect(response.status).toBe(404);
    expect(response.body.length).toBe(0);
    expect(response.headers['content-length']).toBe('0');
    expect(response.headers['content-type']).toBeUndefined();
    expect(response.headers.server).toBe('envoy');
    expect(proxy.stat('http.ingress.no_route')).toBe(before + 1);
  });

  it("503 'no healthy upstream' for a cluster without hosts (UH)", async () => {
    const response = await request(protocol, port, { path: '/nohost' });
    expect(response.status).toBe(503);
    expect(response.body.toString()).toBe('no healthy upstream');
    expect(response.headers['content-type']).toBe('text/plain');
    expect(proxy.stat('cluster.empty.upstream_cx_none_healthy')).toBeGreaterThan(0);
  });

  it("503 with Envoy's connect failure text when the host refuses (UF)", async () => {
    const response = await request(protocol, port, { path: '/closed' });
    expect(response.status).toBe(503);
    expect(response.body.toString()).toBe(
      'upstream connect error or disconnect/reset before headers. reset reason: connection failure, transport failure reason: delayed connect error: 111',
    );
    expect(proxy.stat('cluster.closed.upstream_cx_connect_fail')).toBeGreaterThan(0);
    expect(proxy.stat('cluster.closed.upstream_rq_503')).toBeGreaterThan(0);
  });

  it("504 'upstream request timeout' after the route timeout (UT)", async () => {
    const response = await request(protocol, port, { path: '/slow' });
    expect(response.status).toBe(504);
    expect(response.body.toString()).toBe('upstream request timeout');
    expect(proxy.stat('cluster.backend.upstream_rq_timeout')).toBeGreaterThan(0);
  });

  it('503 overflow with x-envoy-overloaded when max_requests is spent (UO)', async () => {
    const first = request(protocol, port, { path: '/overflow/1' });
    await waitFor(() => proxy.stat('cluster.limited.upstream_rq_active') === 1);
    const second = await request(protocol, port, { path: '/overflow/2' });
    expect(second.status).toBe(503);
    expect(second.body.toString()).toBe('upstream connect error or disconnect/reset before headers. reset reason: overflow');
    expect(second.headers['x-envoy-overloaded']).toBe('true');
    expect((await first).status).toBe(200);
    expect(proxy.stat('cluster.limited.upstream_rq_pending_overflow')).toBeGreaterThan(0);
  });

  it('503 connection termination when the upstream closes before its headers (UC)', async () => {
    const response = await request(protocol, port, { path: '/b/reset-before' });
    expect(response.status).toBe(503);
    expect(response.body.toString()).toBe('upstream connect error or disconnect/reset before headers. reset reason: connection termination');
  });

  it('an upstream that closes mid-body resets the downstream stream', async () => {
    const outcome = await request(protocol, port, { path: '/b/reset-after' }).then(
      (r) => (r.rstCode !== undefined && r.rstCode !== 0 ? 'reset' : r.body.length < 100 ? 'truncated' : 'complete'),
      (error: unknown) => `error: ${String(error)}`,
    );
    // HTTP/1.1: the connection closes before Content-Length bytes; HTTP/2: RST_STREAM.
    expect(outcome).not.toBe('complete');
    expect(proxy.stat('http.ingress.rq_reset_after_downstream_response_started')).toBeGreaterThan(0);
  });

  it('direct_response: body as text/plain, route response headers, rq_direct_response', async () => {
    const before = proxy.stat('http.ingress.rq_direct_response') ?? 0;
    const response = await request(protocol, port, { path: '/direct' });
    expect(response.status).toBe(200);
    expect(response.body.toString()).toBe('direct\n');
    expect(response.headers['content-type']).toBe('text/plain');
    expect(response.headers['x-route-resp']).toBe('direct');
    expect(response.headers['x-vh-resp']).toBe(protocol === 'HTTP1' ? 'HTTP/1.1' : 'HTTP/2');
    expect(proxy.stat('http.ingress.rq_direct_response')).toBe(before + 1);
    const created = await request(protocol, port, { path: '/created' });
    expect(created.status).toBe(201);
    expect(created.headers.location).toBe(`http://127.0.0.1:${port}/created`);
  });

  it('redirect: 302 with the Location Envoy computes, rq_redirect', async () => {
    const response = await request(protocol, port, { path: '/redirect' });
    expect(response.status).toBe(302);
    expect(response.headers.location).toBe('http://example.com/redirect');
    expect(proxy.stat('http.ingress.rq_redirect')).toBeGreaterThan(0);
  });

  it('header mutations, rewrites, via, x-request-id and x-forwarded-proto upstream', async () => {
    const response = await request(protocol, port, { path: '/mutate/x?y=1', headers: { 'x-drop-me': '1', 'x-request-id': 'client-id' } });
    expect(response.status).toBe(200);
    const seen = JSON.parse(response.body.toString()) as { path: string; headers: Record<string, string> };
    expect(seen.path).toBe('/rewritten/x?y=1');
    expect(seen.headers.host).toBe('rewritten.example');
    expect(seen.headers['x-envoy-original-path']).toBe('/mutate/x?y=1');
    expect(seen.headers['x-added']).toBe('GET');
    expect(seen.headers['x-vh']).toBe('vh');
    expect(seen.headers['x-drop-me']).toBeUndefined();
    expect(seen.headers.via).toBe('il-test');
    // Not an edge request (use_remote_address is false): the client's request id is kept.
    expect(seen.headers['x-request-id']).toBe('client-id');
    expect(seen.headers['x-forwarded-proto']).toBe('http');
    expect(response.headers.via).toBe('il-test');
    expect(response.headers['x-route-resp']).toBe('mutate');
  });

  it('CONNECT that meets only prefix routes: 404', async () => {
    const before = proxy.stat('http.ingress.no_route') ?? 0;
    if (protocol === 'HTTP1') {
      const client = await h1Tunnel(port, 'CONNECT foo.example:443 HTTP/1.1\r\nHost: foo.example:443\r\n\r\n');
      expect(client.status).toBe(404);
      // After a refused CONNECT nothing more is read from the connection.
      expect(await client.ended).toBe('disconnect');
    } else {
      const client = await h2Tunnel(port, { ':method': 'CONNECT', ':authority': 'foo.example:443' });
      expect(client.status).toBe(404);
    }
    expect(proxy.stat('http.ingress.no_route')).toBe(before + 1);
  });
});

describe('access log', () => {
  it('records protocol, pseudo-headers (HTTP/1.1 too), code, flags, details, upstream and route', async () => {
    await request('HTTP1', port, { path: '/b/ok' });
    await request('HTTP2', port, { path: '/nowhere' });
    await request('HTTP1', port, { path: '/closed' });
    await waitFor(() => proxy.stat('http.ingress.downstream_rq_active') === 0);
    await proxy.runtime.accessLogFiles.flush();
    const lines = readFileSync(join(logDir, 'access.log'), 'utf8').split('\n');
    const backendHost = proxy.runtime.clusterManager.get('backend')?.hosts()[0]?.addressString ?? '';
    const closedHost = proxy.runtime.clusterManager.get('closed')?.hosts()[0]?.addressString ?? '';
    expect(lines.find((l) => l.startsWith('GET /b/ok '))).toMatch(
      new RegExp(`^GET /b/ok 127\\.0\\.0\\.1:${port} HTTP/1\\.1 200 - via_upstream backend ${backendHost} backend 0 \\d+ envoy -$`),
    );
    expect(lines).toContain(`GET /nowhere 127.0.0.1:${port} HTTP/2 404 NR route_not_found - - - 0 0 envoy -`);
    expect(lines).toContain(
      `GET /closed 127.0.0.1:${port} HTTP/1.1 503 UF upstream_reset_before_response_started{connection_failure|delayed_connect_error:_111} closed ${closedHost} closed 0 145 envoy delayed_connect_error:_111`,
    );
  });
});

describe('request ids and forwarding headers (use_remote_address)', () => {
  async function edgeProxy(hcmExtra: string): Promise<number> {
    const server = await httpBackend((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(req.headers));
    });
    cleanups.push(server.close);
    const p = await startProxy(
      hcmConfig({ hcm: `use_remote_address: true\n${hcmExtra}`, routes: '- match: { prefix: "/" }\n  route: { cluster: backend }', clusters: cluster('backend', server.port) }),
      { remap: false },
    );
    cleanups.push(() => p.close());
    return p.listenerPort('http');
  }

  it('appends the peer to x-forwarded-for; a single internal address marks the request internal', async () => {
    const p = await edgeProxy('');
    const seen = JSON.parse((await request('HTTP1', p, { headers: { 'x-request-id': 'mine', 'x-envoy-retry-on': '5xx' } })).body.toString()) as Record<string, string>;
    expect(seen['x-forwarded-for']).toBe('127.0.0.1');
    expect(seen['x-envoy-internal']).toBe('true');
    // Internal: its x-request-id and x-envoy-* headers are trusted.
    expect(seen['x-request-id']).toBe('mine');
    expect(seen['x-envoy-retry-on']).toBe('5xx');
  });

  it('an edge request (XFF already has a hop) gets a new x-request-id, loses x-envoy-* and gets x-envoy-external-address', async () => {
    const p = await edgeProxy('always_set_request_id_in_response: true');
    const response = await request('HTTP1', p, { headers: { 'x-forwarded-for': '203.0.113.7', 'x-request-id': 'mine', 'x-envoy-retry-on': '5xx' } });
    const seen = JSON.parse(response.body.toString()) as Record<string, string>;
    expect(seen['x-forwarded-for']).toBe('203.0.113.7,127.0.0.1');
    expect(seen['x-envoy-internal']).toBeUndefined();
    expect(seen['x-envoy-retry-on']).toBeUndefined();
    expect(seen['x-envoy-external-address']).toBe('127.0.0.1');
    expect(seen['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(response.headers['x-request-id']).toBe(seen['x-request-id']);
  });

  it('preserve_external_request_id keeps the edge client id', async () => {
    const p = await edgeProxy('preserve_external_request_id: true');
    const seen = JSON.parse((await request('HTTP1', p, { headers: { 'x-forwarded-for': '203.0.113.7', 'x-request-id': 'mine' } })).body.toString()) as Record<string, string>;
    expect(seen['x-request-id']).toBe('mine');
  });

  it('server_name and server_header_transformation', async () => {
    const server = await httpBackend((_req, res) => {
      res.writeHead(200, { server: 'backend/1.0' });
      res.end('ok');
    });
    cleanups.push(server.close);
    for (const [extra, expected] of [
      ['server_name: il-test', 'il-test'],
      ['server_header_transformation: PASS_THROUGH', 'backend/1.0'],
      ['server_header_transformation: APPEND_IF_ABSENT', 'backend/1.0'],
    ] as const) {
      const p = await startProxy(hcmConfig({ hcm: extra, routes: '- match: { prefix: "/" }\n  route: { cluster: backend }', clusters: cluster('backend', server.port) }), { remap: false });
      cleanups.push(() => p.close());
      expect((await request('HTTP1', p.listenerPort('http'))).headers.server).toBe(expected);
    }
  });
});
