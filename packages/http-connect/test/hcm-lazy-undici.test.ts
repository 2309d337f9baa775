// undici (about 20 MiB of RSS with its WebAssembly parser) is loaded only by connection managers
// whose routes may proxy HTTP upstream, and then at start-up rather than on the first request.
// Vitest runs each test file in a process of its own, so the module cache starts without undici.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { rawClient, startProxy } from './hcm-harness.js';

const undiciLoaded = (): boolean => Object.keys(createRequire(import.meta.url).cache).some((file) => /[\\/]undici[\\/]/.test(file));

const hcm = (listener: string, port: number, routes: string, extra = ''): string => `
  - name: ${listener}
    address: { socket_address: { address: 127.0.0.1, port_value: ${port} } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ${listener}${extra}
          route_config:
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
${routes}
          http_filters:
          - name: envoy.filters.http.router
            typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router }`;

const cluster = (name: string, port: number): string => `
  - name: ${name}
    load_assignment: { cluster_name: ${name}, endpoints: [ { lb_endpoints: [ { endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${port} } } } } ] } ] }`;

describe('undici is loaded only where HTTP may be proxied upstream', () => {
  it('direct responses and terminated CONNECT leave it unloaded; a route to a cluster loads it at start', async () => {
    expect(undiciLoaded()).toBe(false);
    const terminating = await startProxy(`
static_resources:
  listeners:${hcm('direct', 18801, '              - { match: { prefix: "/" }, direct_response: { status: 200, body: { inline_string: "local" } } }')}${hcm(
      'connect',
      18802,
      '              - { match: { connect_matcher: {} }, route: { cluster: raw, upgrade_configs: [ { upgrade_type: CONNECT, connect_config: {} } ] } }',
      '\n          upgrade_configs: [ { upgrade_type: CONNECT } ]',
    )}
  clusters:${cluster('raw', 18803)}
`);
    try {
      const client = rawClient(terminating.port(18801));
      client.socket.end('GET / HTTP/1.1\r\nhost: a\r\nconnection: close\r\n\r\n');
      expect((await client.closed).toString()).toMatch(/^HTTP\/1\.1 200 [^]*\r\n\r\nlocal$/);
      expect(undiciLoaded()).toBe(false);
    } finally {
      await terminating.close();
    }

    const proxying = await startProxy(`
static_resources:
  listeners:${hcm('proxy', 18811, '              - { match: { prefix: "/" }, route: { cluster: backend } }')}
  clusters:${cluster('backend', 18812)}
`);
    try {
      expect(undiciLoaded()).toBe(true);
    } finally {
      await proxying.close();
    }
  });
});
