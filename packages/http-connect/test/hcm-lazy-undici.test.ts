// undici (about 20 MiB of RSS with its WebAssembly parser) is loaded only by connection managers
// whose routes may proxy HTTP upstream, and then at start-up rather than on the first request.
// Vitest runs each test file in a process of its own, so the module cache starts without undici.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { cluster, hcmConfig } from './hcm-config.js';
import { rawClient, startProxy } from './hcm-harness.js';

const undiciLoaded = (): boolean => Object.keys(createRequire(import.meta.url).cache).some((file) => /[\\/]undici[\\/]/.test(file));

describe('undici is loaded only where HTTP may be proxied upstream', () => {
  it('direct responses and terminated CONNECT leave it unloaded; a route to a cluster loads it at start', async () => {
    expect(undiciLoaded()).toBe(false);
    const direct = await startProxy(hcmConfig({ routes: '- { match: { prefix: "/" }, direct_response: { status: 200, body: { inline_string: "local" } } }' }), { remap: false });
    try {
      const client = rawClient(direct.listenerPort('http'));
      client.socket.end('GET / HTTP/1.1\r\nhost: a\r\nconnection: close\r\n\r\n');
      expect((await client.closed).toString()).toMatch(/^HTTP\/1\.1 200 [^]*\r\n\r\nlocal$/);
    } finally {
      await direct.close();
    }
    const terminating = await startProxy(
      hcmConfig({
        hcm: 'upgrade_configs: [ { upgrade_type: CONNECT } ]',
        routes: '- { match: { connect_matcher: {} }, route: { cluster: raw, upgrade_configs: [ { upgrade_type: CONNECT, connect_config: {} } ] } }',
        clusters: cluster('raw', 18803),
      }),
      { remap: false },
    );
    await terminating.close();
    expect(undiciLoaded()).toBe(false);

    const proxying = await startProxy(hcmConfig({ routes: '- { match: { prefix: "/" }, route: { cluster: backend } }', clusters: cluster('backend', 18812) }), { remap: false });
    try {
      expect(undiciLoaded()).toBe(true);
    } finally {
      await proxying.close();
    }
  });
});
