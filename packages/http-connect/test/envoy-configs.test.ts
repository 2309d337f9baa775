// Envoy's own example configs (../shared/envoy-configs, or IL_ENVOY_CONFIGS), read from disk
// unmodified apart from their ports, run in-process and driven as Envoy would be.
import { afterEach, describe, expect, it } from 'vitest';
import { envoyConfig, startProxy, tcpUpstream, within } from './hcm-harness.js';
import { collector, h1Tunnel, h2Tunnel } from './hcm-tunnel-clients.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe("Envoy's CONNECT configs", () => {
  it('terminate_http_in_http2_connect.yaml: HTTP/2 CONNECT on 10001 → internal listener decap → 200 "Hello, world!"', async () => {
    const proxy = await startProxy(envoyConfig('terminate_http_in_http2_connect.yaml'));
    cleanups.push(() => proxy.close());
    const client = await h2Tunnel(proxy.port(10001), { ':method': 'CONNECT', ':authority': 'www.example.com:80' });
    expect(client.status).toBe(200);
    client.write('GET / HTTP/1.1\r\nHost: www.example.com\r\n\r\n');
    await client.waitForData('Hello, world!\n');
    const inner = client.received().toString('latin1');
    expect(inner).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(inner.toLowerCase()).toContain('content-length: 14\r\n');
    expect(inner.toLowerCase()).toContain('content-type: text/plain\r\n');
    // Both connection managers share stat_prefix ingress_http: the outer CONNECT and the inner GET.
    expect(proxy.stat('http.ingress_http.downstream_rq_2xx')).toBe(2);
    expect(proxy.stat('http.ingress_http.downstream_cx_upgrades_total')).toBe(1);
    expect(proxy.stat('cluster.decap_cluster.upstream_cx_total')).toBe(1);
  });

  it('terminate_http_in_http2_connect.yaml: an HTTP/1.1 CONNECT works too (codec AUTO)', async () => {
    const proxy = await startProxy(envoyConfig('terminate_http_in_http2_connect.yaml'));
    cleanups.push(() => proxy.close());
    const client = await h1Tunnel(proxy.port(10001), 'CONNECT www.example.com:80 HTTP/1.1\r\nHost: www.example.com:80\r\n\r\n');
    expect(client.status).toBe(200);
    client.write('GET / HTTP/1.1\r\nHost: www.example.com\r\n\r\n');
    await client.waitForData('Hello, world!\n');
  });

  it('proxy_connect.yaml: CONNECT on 10001 terminated and sent as TCP to 127.0.0.1:10002', async () => {
    const proxy = await startProxy(envoyConfig('proxy_connect.yaml'));
    cleanups.push(() => proxy.close());
    const upstream = await tcpUpstream(proxy.port(10002));
    cleanups.push(upstream.close);
    // CONNECT is enabled by the route alone (the HCM lists no upgrade_configs).
    const client = await h2Tunnel(proxy.port(10001), { ':method': 'CONNECT', ':authority': 'anywhere.example:443' });
    expect(client.status).toBe(200);
    const socket = await upstream.next();
    const up = collector(socket);
    client.write('ping');
    await up.waitFor('ping');
    socket.write('pong');
    await client.waitForData('pong');
    client.end();
    await within(up.ended, 5000, 'the upstream FIN');
    // The cluster's http2_protocol_options do not matter: a terminated CONNECT is raw TCP.
    expect(up.text()).toBe('ping');
  });

  it('terminate_http2_connect.yaml: loads unmodified and tunnels to its LOGICAL_DNS cluster', async () => {
    const config = envoyConfig('terminate_http2_connect.yaml');
    // www.google.com resolves to a local TCP server here (no network in tests).
    const proxy = await startProxy(config, { dnsResolver: () => Promise.resolve(['127.0.0.1']) });
    cleanups.push(() => proxy.close());
    const upstream = await tcpUpstream(proxy.port(443));
    cleanups.push(upstream.close);
    const client = await h1Tunnel(proxy.port(10001), 'CONNECT www.google.com:443 HTTP/1.1\r\nHost: www.google.com:443\r\n\r\n');
    expect(client.status).toBe(200);
    const socket = await upstream.next();
    const up = collector(socket);
    client.write('\x16\x03\x01');
    await up.waitFor('\x16\x03\x01');
  });
});
