import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type HttpConnectionManager, type RouteConfiguration } from '@il/config';
import { StreamInfo, type HeaderMap } from '@il/core';
import { describe, expect, it } from 'vitest';
import { compileRouteConfiguration, RouteConfigError, upgradeTypeOf, type RouteMatchResult, type RouteRequest, type RouteTable } from '../src/index.js';

// ---------------------------------------------------------------- helpers

const CLUSTERS = ['a', 'b', 'c', 'tunnel'];

function indent(text: string, spaces: number): string {
  const lines = text.replace(/^\n+|\s+$/g, '').split('\n');
  const common = Math.min(...lines.filter((l) => l.trim() !== '').map((l) => /^ */.exec(l)?.[0].length ?? 0));
  return lines.map((l) => ' '.repeat(spaces) + l.slice(common)).join('\n');
}

/** Loads a bootstrap whose only listener runs an HCM with `hcmYaml` (route_config, upgrade_configs...), so every default is the loader's. */
function loadHcm(hcmYaml: string): HttpConnectionManager {
  const text = `
static_resources:
  listeners:
  - name: listener
    address: { socket_address: { address: 127.0.0.1, port_value: 10000 } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: test
          http_filters:
          - name: envoy.filters.http.router
            typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router }
${indent(hcmYaml, 10)}
  clusters:
${CLUSTERS.map((name) => `  - { name: ${name}, load_assignment: { cluster_name: ${name}, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: 1 } } } }] }] } }`).join('\n')}
`;
  const { bootstrap } = loadConfig({ text, name: 'route-test.yaml' });
  const filter = bootstrap.static_resources.listeners[0]?.filter_chains[0]?.filters[0];
  if (filter?.typed_config['@type'] !== 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager') {
    throw new Error('the test config has no HCM');
  }
  return filter.typed_config;
}

function routeConfigOf(hcm: HttpConnectionManager): RouteConfiguration {
  if (hcm.route_config === undefined) throw new Error('the test HCM has no route_config');
  return hcm.route_config;
}

/** A route table from an HCM config, with the HCM's own upgrade and port options, as the HCM builds it. */
function tableOf(hcmYaml: string, random?: () => number): RouteTable {
  const hcm = loadHcm(hcmYaml);
  return compileRouteConfiguration(routeConfigOf(hcm), {
    upgradeConfigs: hcm.upgrade_configs,
    stripAnyHostPort: hcm.strip_any_host_port,
    stripMatchingHostPort: hcm.strip_matching_host_port,
    random,
  });
}

/** A table with one `*` virtual host whose routes are `routesYaml`. */
function routesTable(routesYaml: string, hcmExtra = '', random?: () => number): RouteTable {
  return tableOf(
    `
${hcmExtra}
route_config:
  name: rc
  virtual_hosts:
  - name: vh
    domains: ["*"]
    routes:
${indent(routesYaml, 4)}
`,
    random,
  );
}

/** A table whose routes are each `name: match`, answering 200 directly: shows which route matched first. */
function firstMatch(matches: Record<string, string>): (request: RouteRequest) => string | undefined {
  const table = routesTable(
    Object.entries(matches)
      .map(([name, match]) => `- name: ${name}\n  match: ${match}\n  direct_response: { status: 200 }`)
      .join('\n'),
  );
  return (request) => table.route(request)?.route.name;
}

function get(path: string | undefined, init: Partial<Omit<RouteRequest, 'headers'>> & { headers?: HeaderMap } = {}): RouteRequest {
  return { method: 'GET', authority: 'example.com', path, ...init, headers: init.headers ?? {} };
}

function connect(authority: string, init: Partial<Omit<RouteRequest, 'headers'>> & { headers?: HeaderMap } = {}): RouteRequest {
  return { method: 'CONNECT', authority, path: undefined, ...init, headers: init.headers ?? {} };
}

function forward(result: RouteMatchResult | undefined) {
  if (result?.action.kind !== 'route') throw new Error(`expected a route action, got ${result?.action.kind ?? 'no match'}`);
  return result.action;
}

function location(result: RouteMatchResult | undefined): [number, string] {
  if (result?.action.kind !== 'redirect') throw new Error(`expected a redirect, got ${result?.action.kind ?? 'no match'}`);
  return [result.action.status, result.action.location];
}

/** mulberry32: a small seeded generator, so weighted picks are reproducible. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function compileError(run: () => unknown): RouteConfigError {
  try {
    run();
  } catch (error) {
    if (error instanceof RouteConfigError) return error;
    throw error;
  }
  throw new Error('expected a RouteConfigError');
}

// ---------------------------------------------------------------- virtual hosts

const VIRTUAL_HOSTS = `
route_config:
  name: rc
  virtual_hosts:
  - { name: exact, domains: [foo.com, "bar.com:8080"], routes: [{ match: { prefix: / }, direct_response: { status: 200 } }] }
  - { name: suffix, domains: ["*.foo.com"], routes: [{ match: { prefix: / }, direct_response: { status: 200 } }] }
  - { name: longer-suffix, domains: ["*-bar.foo.com"], routes: [{ match: { prefix: / }, direct_response: { status: 200 } }] }
  - { name: prefix, domains: ["foo.*"], routes: [{ match: { prefix: / }, direct_response: { status: 200 } }] }
  - { name: longer-prefix, domains: ["foo.bar.*"], routes: [{ match: { prefix: / }, direct_response: { status: 200 } }] }
  - { name: ipv6, domains: ["[::1]"], routes: [{ match: { prefix: / }, direct_response: { status: 200 } }] }
  - { name: default, domains: ["*"], routes: [{ match: { prefix: / }, direct_response: { status: 200 } }] }
`;

describe('virtual host selection', () => {
  const table = tableOf(VIRTUAL_HOSTS);
  const hostFor = (authority: string, t: RouteTable = table, localPort?: number) => t.route(get('/', { authority, localPort }))?.virtualHost.name;

  it('takes an exact domain first, case-insensitively', () => {
    expect(hostFor('foo.com')).toBe('exact');
    expect(hostFor('FOO.Com')).toBe('exact');
  });

  it('then the longest suffix wildcard; a wildcard never matches an empty remainder', () => {
    expect(hostFor('a.foo.com')).toBe('suffix');
    expect(hostFor('x-bar.foo.com')).toBe('longer-suffix');
    expect(hostFor('bar.foo.com')).toBe('suffix');
    expect(hostFor('.foo.com')).toBe('default');
    expect(hostFor('foo.foo.com')).toBe('suffix'); // suffix wildcards win over prefix ones
  });

  it('then the longest prefix wildcard, then *', () => {
    expect(hostFor('foo.org')).toBe('prefix');
    expect(hostFor('foo.bar.org')).toBe('longer-prefix');
    expect(hostFor('other.net')).toBe('default');
  });

  it('matches the authority with its port, and does not retry without it (Envoy has no such fallback)', () => {
    expect(hostFor('bar.com:8080')).toBe('exact');
    expect(hostFor('bar.com')).toBe('default');
    expect(hostFor('foo.com:8080')).toBe('prefix'); // "foo.*" matches "foo.com:8080"; "foo.com" does not
    expect(hostFor('a.foo.com:443')).toBe('default');
  });

  it('strip_any_host_port matches on the host alone', () => {
    const stripped = tableOf(`strip_any_host_port: true\n${VIRTUAL_HOSTS}`);
    expect(hostFor('foo.com:8080', stripped)).toBe('exact');
    expect(hostFor('a.foo.com:443', stripped)).toBe('suffix');
    expect(hostFor('bar.com:8080', stripped)).toBe('default');
    expect(hostFor('[::1]:80', stripped)).toBe('ipv6');
  });

  it('strip_matching_host_port strips only the listener port', () => {
    const stripped = tableOf(`strip_matching_host_port: true\n${VIRTUAL_HOSTS}`);
    expect(hostFor('foo.com:8080', stripped, 8080)).toBe('exact');
    expect(hostFor('foo.com:9090', stripped, 8080)).toBe('prefix');
  });

  it('without a * virtual host an unknown authority gets no route (404)', () => {
    const table = tableOf(`
route_config:
  virtual_hosts:
  - { name: only, domains: [foo.com], routes: [{ match: { prefix: / }, direct_response: { status: 200 } }] }
`);
    expect(table.route(get('/', { authority: 'bar.com' }))).toBeUndefined();
    expect(table.route(get('/', { authority: 'foo.com' }))?.virtualHost.name).toBe('only');
  });

  it('a lone * virtual host takes every request, even one without an authority', () => {
    const table = routesTable('- match: { prefix: / }\n  direct_response: { status: 200 }');
    expect(table.route(get('/', { authority: '' }))?.virtualHost.name).toBe('vh');
  });

  it('reports the names of the route configuration, virtual host and route', () => {
    const table = tableOf(`
route_config:
  name: local_route
  internal_only_headers: [X-Internal-Only]
  virtual_hosts:
  - { name: backend, domains: ["*"], routes: [{ name: all, match: { prefix: / }, direct_response: { status: 200 } }] }
`);
    const result = table.route(get('/'));
    expect(table.name).toBe('local_route');
    expect(table.internalOnlyHeaders).toEqual(['x-internal-only']);
    expect(result?.virtualHost.name).toBe('backend');
    expect(result?.route.name).toBe('all');
    expect(result?.route.config.name).toBe('all');
  });
});

// ---------------------------------------------------------------- route matching

describe('route matching', () => {
  it('prefix: the first matching route wins; the query is not part of the path', () => {
    const match = firstMatch({ narrow: '{ prefix: /api/v2 }', api: '{ prefix: /api }', rest: '{ prefix: / }' });
    expect(match(get('/api/v2/users'))).toBe('narrow');
    expect(match(get('/api/v1'))).toBe('api');
    expect(match(get('/apix'))).toBe('api');
    expect(match(get('/other?/api'))).toBe('rest');
    expect(match(get('/API'))).toBe('rest');
  });

  it('prefix with case_sensitive: false', () => {
    const match = firstMatch({ api: '{ prefix: /Api, case_sensitive: false }' });
    expect(match(get('/aPI/x'))).toBe('api');
    expect(match(get('/ap'))).toBeUndefined();
  });

  it('path: exact, query ignored, case-sensitive unless told otherwise', () => {
    const sensitive = firstMatch({ exact: '{ path: /exact }' });
    expect(sensitive(get('/exact'))).toBe('exact');
    expect(sensitive(get('/exact?q=1'))).toBe('exact');
    expect(sensitive(get('/exact/'))).toBeUndefined();
    expect(sensitive(get('/EXACT'))).toBeUndefined();
    const insensitive = firstMatch({ exact: '{ path: /exact, case_sensitive: false }' });
    expect(insensitive(get('/EXACT'))).toBe('exact');
  });

  it('safe_regex: a full match of the path without its query; case_sensitive does not apply (as in Envoy)', () => {
    const match = firstMatch({ items: '{ safe_regex: { regex: "/items/[0-9]+" }, case_sensitive: false }' });
    expect(match(get('/items/42'))).toBe('items');
    expect(match(get('/items/42?sort=asc'))).toBe('items');
    expect(match(get('/items/42/more'))).toBeUndefined();
    expect(match(get('/x/items/42'))).toBeUndefined();
    expect(match(get('/ITEMS/42'))).toBeUndefined();
  });

  it('safe_regex is RE2: linear time on the inputs that make a backtracking engine explode, and RE2 syntax ((?i), \\pL)', () => {
    const match = firstMatch({ evil: '{ safe_regex: { regex: "/(a+)+b" } }', fold: '{ safe_regex: { regex: "(?i)/Caps/\\\\pL+" } }' });
    expect(match(get('/aaab'))).toBe('evil');
    expect(match(get('/caps/Ünïcode'))).toBe('fold');
    // Each is the best of five runs, so a busy machine does not decide it; a backtracking engine
    // takes 49 s on the first (2^30 paths) and does not finish the second.
    for (const path of [`/${'a'.repeat(30)}c`, `/${'a'.repeat(64 * 1024)}c`]) {
      let best = Infinity;
      for (let run = 0; run < 5; run++) {
        const started = performance.now();
        expect(match(get(path))).toBeUndefined();
        best = Math.min(best, performance.now() - started);
      }
      expect(best).toBeLessThan(10);
    }
  });

  it('path_separated_prefix: the prefix as whole path segments', () => {
    const match = firstMatch({ api: '{ path_separated_prefix: /api }' });
    expect(match(get('/api'))).toBe('api');
    expect(match(get('/api/v1'))).toBe('api');
    expect(match(get('/api?x=1'))).toBe('api');
    expect(match(get('/apiv1'))).toBeUndefined();
    expect(firstMatch({ api: '{ path_separated_prefix: /api, case_sensitive: false }' })(get('/API/v1'))).toBe('api');
  });

  it('headers: exact, prefix, suffix, contains and safe_regex, with ignore_case', () => {
    const match = firstMatch({
      exact: '{ prefix: /, headers: [{ name: X-Env, string_match: { exact: prod } }] }',
      prefix: '{ prefix: /, headers: [{ name: x-env, string_match: { prefix: stag } }] }',
      suffix: '{ prefix: /, headers: [{ name: x-env, string_match: { suffix: -dev, ignore_case: true } }] }',
      contains: '{ prefix: /, headers: [{ name: x-env, string_match: { contains: test } }] }',
      regex: '{ prefix: /, headers: [{ name: x-env, string_match: { safe_regex: { regex: "v[0-9]+" } } }] }',
    });
    expect(match(get('/', { headers: { 'x-env': 'prod' } }))).toBe('exact');
    expect(match(get('/', { headers: { 'x-env': 'PROD' } }))).toBeUndefined();
    expect(match(get('/', { headers: { 'x-env': 'staging' } }))).toBe('prefix');
    expect(match(get('/', { headers: { 'x-env': 'alice-DEV' } }))).toBe('suffix');
    expect(match(get('/', { headers: { 'x-env': 'a-test-b' } }))).toBe('contains');
    expect(match(get('/', { headers: { 'x-env': 'v12' } }))).toBe('regex');
    expect(match(get('/', { headers: { 'x-env': 'v12x' } }))).toBeUndefined(); // regexes match the whole value
    expect(match(get('/'))).toBeUndefined();
  });

  it('headers: several values are joined with "," before matching', () => {
    const match = firstMatch({ both: '{ prefix: /, headers: [{ name: x-tag, string_match: { exact: "a,b" } }] }' });
    expect(match(get('/', { headers: { 'x-tag': ['a', 'b'] } }))).toBe('both');
    expect(match(get('/', { headers: { 'x-tag': 'a' } }))).toBeUndefined();
  });

  it('headers: present_match, invert_match and treat_missing_header_as_empty', () => {
    const match = firstMatch({
      present: '{ prefix: /present, headers: [{ name: x-a, present_match: true }] }',
      absent: '{ prefix: /absent, headers: [{ name: x-a, present_match: true, invert_match: true }] }',
      'not-prod': '{ prefix: /not-prod, headers: [{ name: x-env, string_match: { exact: prod }, invert_match: true }] }',
      empty: '{ prefix: /empty, headers: [{ name: x-env, string_match: { exact: "" }, treat_missing_header_as_empty: true }] }',
    });
    expect(match(get('/present', { headers: { 'x-a': '' } }))).toBe('present');
    expect(match(get('/present'))).toBeUndefined();
    expect(match(get('/absent'))).toBe('absent');
    expect(match(get('/absent', { headers: { 'x-a': '1' } }))).toBeUndefined();
    expect(match(get('/not-prod', { headers: { 'x-env': 'dev' } }))).toBe('not-prod');
    expect(match(get('/not-prod', { headers: { 'x-env': 'prod' } }))).toBeUndefined();
    // An inverted value condition still needs the header (Envoy's HeaderUtility::matchHeaders).
    expect(match(get('/not-prod'))).toBeUndefined();
    expect(match(get('/empty'))).toBe('empty');
  });

  it('headers: pseudo-headers come from the request (:method, :authority, :path), and host reads :authority', () => {
    const match = firstMatch({
      post: '{ prefix: /, headers: [{ name: ":method", string_match: { exact: POST } }] }',
      authority: '{ prefix: /, headers: [{ name: ":authority", string_match: { exact: "api.example.com" } }] }',
      host: '{ prefix: /, headers: [{ name: host, string_match: { exact: "h.example.com" } }] }',
      path: '{ prefix: /, headers: [{ name: ":path", string_match: { suffix: "?debug" } }] }',
    });
    expect(match(get('/', { method: 'POST' }))).toBe('post');
    expect(match(get('/', { authority: 'api.example.com' }))).toBe('authority');
    expect(match(get('/', { authority: 'h.example.com', headers: { host: 'other' } }))).toBe('host');
    expect(match(get('/x?debug'))).toBe('path');
  });

  it('query_parameters: string_match on the first value, present_match, no percent-decoding', () => {
    const match = firstMatch({
      debug: '{ prefix: /, query_parameters: [{ name: debug, string_match: { exact: "true" } }] }',
      trace: '{ prefix: /, query_parameters: [{ name: trace, present_match: true }] }',
      encoded: '{ prefix: /, query_parameters: [{ name: q, string_match: { exact: "a%20b" } }] }',
    });
    expect(match(get('/?debug=true'))).toBe('debug');
    expect(match(get('/?debug=true&debug=false'))).toBe('debug');
    expect(match(get('/?debug=false&debug=true'))).toBeUndefined();
    expect(match(get('/?x=1&trace'))).toBe('trace');
    expect(match(get('/?q=a%20b'))).toBe('encoded');
    expect(match(get('/?q=a b'))).toBeUndefined();
    expect(match(get('/'))).toBeUndefined();
  });
});

// ---------------------------------------------------------------- CONNECT and upgrades

describe('CONNECT routing (envoy-behavior.md §4.2)', () => {
  const connectEnabled = 'upgrade_configs: [{ upgrade_type: CONNECT }]';

  it('a classic CONNECT (no :path) skips prefix routes and takes a connect_matcher route', () => {
    const table = routesTable(
      `
- { name: web, match: { prefix: / }, route: { cluster: a } }
- name: tunnel
  match: { connect_matcher: {} }
  route: { cluster: tunnel, upgrade_configs: [{ upgrade_type: CONNECT, connect_config: {} }] }
`,
      connectEnabled,
    );
    const result = table.route(connect('foo.lyft.com:80'));
    expect(result?.route.name).toBe('tunnel');
    expect(forward(result).cluster).toBe('tunnel');
    expect(result?.upgrade).toEqual({ kind: 'allowed', upgradeType: 'CONNECT', connectConfig: { allowPost: false } });
    expect(table.route(get('/'))?.route.name).toBe('web');
  });

  it('a CONNECT that meets only prefix routes gets no route: 404 if the HCM enables CONNECT, else 403', () => {
    const enabled = routesTable('- { match: { prefix: / }, route: { cluster: a } }', connectEnabled);
    expect(enabled.route(connect('foo.lyft.com:80'))).toBeUndefined();
    expect(enabled.upgradeDecision(connect('foo.lyft.com:80'))).toEqual({ kind: 'allowed', upgradeType: 'CONNECT' });
    const disabled = routesTable('- { match: { prefix: / }, route: { cluster: a } }');
    expect(disabled.upgradeDecision(connect('foo.lyft.com:80'))).toEqual({ kind: 'rejected', upgradeType: 'CONNECT' });
  });

  it('UsingHostMatch: virtual host domains are matched against the CONNECT target, port included', () => {
    const table = tableOf(`
${connectEnabled}
route_config:
  virtual_hosts:
  - name: target
    domains: ["foo.lyft.com:80"]
    routes: [{ match: { connect_matcher: {} }, route: { cluster: tunnel } }]
`);
    expect(table.route(connect('foo.lyft.com:80'))?.virtualHost.name).toBe('target');
    expect(table.route(connect('foo.lyft.com:443'))).toBeUndefined();
  });

  it('with strip_any_host_port a CONNECT target matches the domain without its port', () => {
    const table = tableOf(`
${connectEnabled}
strip_any_host_port: true
route_config:
  virtual_hosts:
  - { name: target, domains: [foo.lyft.com], routes: [{ match: { connect_matcher: {} }, route: { cluster: tunnel } }] }
`);
    expect(table.route(connect('foo.lyft.com:80'))?.virtualHost.name).toBe('target');
  });

  it('IgnoreH11HostField: :authority is the CONNECT target, whatever the Host header says', () => {
    const table = routesTable(
      '- { match: { connect_matcher: {}, headers: [{ name: host, string_match: { exact: "www.foo.com:443" } }] }, route: { cluster: tunnel } }',
      connectEnabled,
    );
    expect(table.route(connect('www.foo.com:443', { headers: { host: 'www.bar.com:443' } }))?.route.config.route?.cluster).toBe('tunnel');
  });

  it('extended CONNECT with :protocol bytestream is a CONNECT: connect_matcher matches and the upgrade type is CONNECT', () => {
    const table = routesTable(
      `
- name: tunnel
  match: { connect_matcher: {} }
  route: { cluster: tunnel, upgrade_configs: [{ upgrade_type: CONNECT, connect_config: {} }] }
- { name: web, match: { prefix: / }, route: { cluster: a } }
`,
      connectEnabled,
    );
    const request = connect('foo.lyft.com:80', { path: '/', protocol: 'bytestream' });
    expect(upgradeTypeOf(request)).toBe('CONNECT');
    const result = table.route(request);
    expect(result?.route.name).toBe('tunnel');
    expect(result?.upgrade).toEqual({ kind: 'allowed', upgradeType: 'CONNECT', connectConfig: { allowPost: false } });
  });

  it('extended CONNECT for websocket is an upgrade, not a CONNECT: it routes as a GET with upgrade: websocket', () => {
    const table = routesTable(`
- { name: tunnel, match: { connect_matcher: {} }, route: { cluster: tunnel } }
- name: ws
  match: { prefix: /chat, headers: [{ name: ":method", string_match: { exact: GET } }, { name: upgrade, string_match: { exact: websocket } }] }
  route: { cluster: a, upgrade_configs: [{ upgrade_type: websocket }] }
`);
    const request = connect('example.com', { path: '/chat', protocol: 'websocket' });
    expect(upgradeTypeOf(request)).toBe('websocket');
    const result = table.route(request);
    expect(result?.route.name).toBe('ws');
    expect(result?.upgrade).toEqual({ kind: 'allowed', upgradeType: 'websocket' });
  });

  it('upgradeTypeOf: CONNECT, a lower-cased Upgrade with connection: upgrade, else nothing', () => {
    expect(upgradeTypeOf(connect('h:1'))).toBe('CONNECT');
    expect(upgradeTypeOf(get('/', { headers: { upgrade: 'WebSocket', connection: 'keep-alive, Upgrade' } }))).toBe('websocket');
    expect(upgradeTypeOf(get('/', { headers: { upgrade: 'websocket' } }))).toBeUndefined();
    expect(upgradeTypeOf(get('/'))).toBeUndefined();
    expect(upgradeTypeOf(get('/', { method: 'POST' }))).toBeUndefined();
  });
});

describe('upgrades: route upgrade_configs override the HCM (envoy-behavior.md §1.6)', () => {
  const websocket = (path = '/') => get(path, { headers: { upgrade: 'websocket', connection: 'upgrade' } });

  function decisions(hcm: boolean, route: boolean) {
    const table = routesTable(
      `
- name: ws
  match: { prefix: / }
  route:
    cluster: a
    upgrade_configs: [{ upgrade_type: websocket, enabled: ${route} }, { upgrade_type: CONNECT, enabled: ${route} }]
- { name: tunnel, match: { connect_matcher: {} }, route: { cluster: tunnel, upgrade_configs: [{ upgrade_type: CONNECT, enabled: ${route} }] } }
`,
      `upgrade_configs: [{ upgrade_type: websocket, enabled: ${hcm} }, { upgrade_type: CONNECT, enabled: ${hcm} }]`,
    );
    return [table.route(websocket())?.upgrade.kind, table.route(connect('h:443'))?.upgrade.kind];
  }

  it.each([
    [true, true, 'allowed'],
    [true, false, 'rejected'],
    [false, true, 'allowed'],
    [false, false, 'rejected'],
  ] as const)('HCM %s, route %s: %s for websocket and CONNECT', (hcm, route, expected) => {
    expect(decisions(hcm, route)).toEqual([expected, expected]);
  });

  it('without a route entry the HCM decides; with neither the upgrade is refused; CONNECT is off by default', () => {
    const hcmOnly = routesTable('- { match: { prefix: / }, route: { cluster: a } }', 'upgrade_configs: [{ upgrade_type: WebSocket }]');
    expect(forward(hcmOnly.route(websocket())).upgrade).toEqual({ kind: 'allowed', upgradeType: 'websocket' });
    const none = routesTable('- { match: { prefix: / }, route: { cluster: a } }');
    expect(forward(none.route(websocket())).upgrade).toEqual({ kind: 'rejected', upgradeType: 'websocket' });
    expect(none.upgradeDecision(connect('h:443'))).toEqual({ kind: 'rejected', upgradeType: 'CONNECT' });
    expect(forward(none.route(get('/'))).upgrade).toEqual({ kind: 'none' });
  });

  it('direct responses and redirects have no route upgrade map: the HCM alone decides', () => {
    const table = routesTable('- { match: { prefix: / }, direct_response: { status: 200 } }', 'upgrade_configs: [{ upgrade_type: websocket }]');
    expect(table.route(websocket())?.upgrade).toEqual({ kind: 'allowed', upgradeType: 'websocket' });
  });

  it('connect_config terminates CONNECT, with its PROXY protocol version', () => {
    const table = routesTable(`
- match: { connect_matcher: {} }
  route:
    cluster: tunnel
    upgrade_configs: [{ upgrade_type: connect, connect_config: { proxy_protocol_config: { version: V2 } } }]
`);
    expect(forward(table.route(connect('h:443'))).upgrade).toEqual({ kind: 'allowed', upgradeType: 'CONNECT', connectConfig: { allowPost: false, proxyProtocolVersion: 'V2' } });
  });

  it('allow_post: a POST on the route is terminated like CONNECT; without allow_post it is a plain POST', () => {
    const table = routesTable(`
- name: post-tunnel
  match: { prefix: /, headers: [{ name: ":method", string_match: { exact: POST } }] }
  route: { cluster: tunnel, upgrade_configs: [{ upgrade_type: CONNECT, connect_config: { allow_post: true } }] }
- name: plain
  match: { prefix: / }
  route: { cluster: a, upgrade_configs: [{ upgrade_type: CONNECT, connect_config: {} }] }
`);
    const post = get('/', { method: 'POST' });
    const result = table.route(post);
    expect(result?.route.name).toBe('post-tunnel');
    expect(result?.upgrade).toEqual({ kind: 'allowed', upgradeType: 'CONNECT', connectConfig: { allowPost: true } });
    expect(upgradeTypeOf(post)).toBeUndefined();
    expect(upgradeTypeOf(post, result?.route)).toBe('CONNECT');
    const plain = table.route(get('/'));
    expect(plain?.route.name).toBe('plain');
    expect(plain?.upgrade).toEqual({ kind: 'none' });
  });
});

// ---------------------------------------------------------------- actions

describe('route actions', () => {
  it('weighted_clusters: picks follow the weights (seeded random)', () => {
    const table = routesTable(
      `
- match: { prefix: / }
  route: { weighted_clusters: { clusters: [{ name: a, weight: 70 }, { name: b, weight: 20 }, { name: c, weight: 10 }] } }
`,
      '',
      seeded(42),
    );
    const counts = new Map<string, number>();
    for (let i = 0; i < 20_000; i++) {
      const cluster = forward(table.route(get('/'))).cluster ?? '';
      counts.set(cluster, (counts.get(cluster) ?? 0) + 1);
    }
    expect((counts.get('a') ?? 0) / 20_000).toBeCloseTo(0.7, 1);
    expect((counts.get('b') ?? 0) / 20_000).toBeCloseTo(0.2, 1);
    expect((counts.get('c') ?? 0) / 20_000).toBeCloseTo(0.1, 1);
  });

  it('weighted_clusters: intervals in config order; the sum of weights is the total (total_weight is ignored, as in current Envoy)', () => {
    let next = 0;
    const table = routesTable(
      `
- match: { prefix: / }
  route: { weighted_clusters: { total_weight: 100, clusters: [{ name: a, weight: 1 }, { name: b, weight: 3 }] } }
`,
      '',
      () => next,
    );
    const pick = (r: number) => {
      next = r;
      return forward(table.route(get('/'))).cluster;
    };
    expect(pick(0)).toBe('a');
    expect(pick(0.2)).toBe('a');
    expect(pick(0.25)).toBe('b');
    expect(pick(0.999999)).toBe('b');
  });

  it('cluster_header: the first value of the header names the cluster; absent means no cluster', () => {
    const table = routesTable('- { match: { prefix: / }, route: { cluster_header: X-Cluster } }');
    const named = forward(table.route(get('/', { headers: { 'x-cluster': 'b' } })));
    expect(named.cluster).toBe('b');
    expect(named.clusterHeader).toBe('x-cluster');
    expect(forward(table.route(get('/', { headers: { 'x-cluster': ['c', 'a'] } }))).cluster).toBe('c');
    expect(forward(table.route(get('/'))).cluster).toBeUndefined();
  });

  it('a weighted entry may name a cluster_header too', () => {
    const table = routesTable('- { match: { prefix: / }, route: { weighted_clusters: { clusters: [{ cluster_header: x-pick, weight: 1 }] } } }');
    const action = forward(table.route(get('/', { headers: { 'x-pick': 'a' } })));
    expect([action.cluster, action.clusterHeader]).toEqual(['a', 'x-pick']);
  });

  it('timeouts: 15 s by default, 0s disables, idle_timeout and max_stream_duration when set', () => {
    const table = routesTable(`
- { name: default, match: { path: /default }, route: { cluster: a } }
- match: { path: /custom }
  route: { cluster: a, timeout: 0s, idle_timeout: 2.5s, max_stream_duration: { max_stream_duration: 60s } }
`);
    const defaults = forward(table.route(get('/default')));
    expect([defaults.timeoutMs, defaults.idleTimeoutMs, defaults.maxStreamDurationMs]).toEqual([15000, undefined, undefined]);
    const custom = forward(table.route(get('/custom')));
    expect([custom.timeoutMs, custom.idleTimeoutMs, custom.maxStreamDurationMs]).toEqual([0, 2500, 60000]);
  });

  it('host rewrites are passed through: host_rewrite_literal, auto_host_rewrite, host_rewrite_header', () => {
    const table = routesTable(`
- { match: { path: /literal }, route: { cluster: a, host_rewrite_literal: upstream.internal } }
- { match: { path: /auto }, route: { cluster: a, auto_host_rewrite: true } }
- { match: { path: /header }, route: { cluster: a, host_rewrite_header: X-Host } }
- { match: { path: /none }, route: { cluster: a } }
`);
    const pick = (path: string) => {
      const a = forward(table.route(get(path)));
      return [a.hostRewriteLiteral, a.autoHostRewrite, a.hostRewriteHeader];
    };
    expect(pick('/literal')).toEqual(['upstream.internal', false, undefined]);
    expect(pick('/auto')).toEqual([undefined, true, undefined]);
    expect(pick('/header')).toEqual([undefined, false, 'x-host']);
    expect(pick('/none')).toEqual([undefined, false, undefined]);
  });

  it('prefix_rewrite replaces what the route matched: the prefix, the exact path, or the whole path of a regex route', () => {
    const table = routesTable(`
- { match: { prefix: /API/, case_sensitive: false }, route: { cluster: a, prefix_rewrite: / } }
- { match: { path: /old }, route: { cluster: a, prefix_rewrite: /new } }
- { match: { safe_regex: { regex: "/v[0-9]+/.*" } }, route: { cluster: a, prefix_rewrite: /flat } }
- { match: { prefix: / }, route: { cluster: a } }
`);
    const rewrite = (path: string) => forward(table.route(get(path))).rewritePath(path);
    expect(rewrite('/api/users?x=1')).toBe('/users?x=1');
    expect(rewrite('/Api/users')).toBe('/users');
    expect(rewrite('/old?q=1')).toBe('/new?q=1');
    expect(rewrite('/v1/a/b?q=1')).toBe('/flat?q=1');
    expect(rewrite('/untouched?x')).toBe('/untouched?x');
  });

  it('regex_rewrite: every match of the path (query kept) is replaced; RE2 \\N references become groups (JavaScript RegExp)', () => {
    const table = routesTable(`
- match: { prefix: /service/ }
  route: { cluster: a, regex_rewrite: { pattern: { regex: "^/service/([^/]+)(/.*)$" }, substitution: "\\\\2/instance/\\\\1" } }
- match: { prefix: / }
  route: { cluster: a, regex_rewrite: { pattern: { regex: one }, substitution: two } }
`);
    const rewrite = (path: string) => forward(table.route(get(path))).rewritePath(path);
    expect(rewrite('/service/foo/v1/api?x=one')).toBe('/v1/api/instance/foo?x=one');
    expect(rewrite('/xxx/one/yyy/one')).toBe('/xxx/two/yyy/two');
  });
});

describe('redirects', () => {
  const table = routesTable(`
- { match: { prefix: /https }, redirect: { https_redirect: true } }
- { match: { prefix: /scheme }, redirect: { scheme_redirect: ftp } }
- { match: { prefix: /host }, redirect: { host_redirect: other.com } }
- { match: { prefix: /port }, redirect: { port_redirect: 8443 } }
- { match: { prefix: /tls443 }, redirect: { https_redirect: true, port_redirect: 443 } }
- { match: { prefix: /path-query }, redirect: { path_redirect: "/new?y=2", strip_query: true } }
- { match: { prefix: /path-strip }, redirect: { path_redirect: /new, strip_query: true } }
- { match: { prefix: /path }, redirect: { path_redirect: /new } }
- { match: { prefix: /prefix/ }, redirect: { prefix_rewrite: /renamed/ } }
- { match: { prefix: /regex/ }, redirect: { regex_rewrite: { pattern: { regex: "^/regex/(.*)$" }, substitution: "/r/\\\\1" } } }
- { match: { prefix: /strip }, redirect: { strip_query: true } }
- { match: { prefix: /found }, redirect: { response_code: FOUND } }
- { match: { prefix: /see-other }, redirect: { response_code: SEE_OTHER } }
- { match: { prefix: /temporary }, redirect: { response_code: TEMPORARY_REDIRECT } }
- { match: { prefix: /permanent }, redirect: { response_code: PERMANENT_REDIRECT } }
`);
  const redirect = (path: string, authority = 'example.com', headers: HeaderMap = {}) => location(table.route(get(path, { authority, headers })));

  it('https_redirect and scheme_redirect change the scheme; a default port of the old scheme is dropped', () => {
    expect(redirect('/https/a?x=1')).toEqual([301, 'https://example.com/https/a?x=1']);
    expect(redirect('/https/a', 'example.com:80')).toEqual([301, 'https://example.com/https/a']);
    expect(redirect('/https/a', 'example.com:8080')).toEqual([301, 'https://example.com:8080/https/a']);
    expect(redirect('/scheme/a')).toEqual([301, 'ftp://example.com/scheme/a']);
  });

  it('host_redirect replaces the host; port_redirect replaces the port (and is kept even when it is the default)', () => {
    expect(redirect('/host/a?x=1', 'example.com:8080')).toEqual([301, 'http://other.com/host/a?x=1']);
    expect(redirect('/port/a')).toEqual([301, 'http://example.com:8443/port/a']);
    expect(redirect('/port/a', 'example.com:8080')).toEqual([301, 'http://example.com:8443/port/a']);
    expect(redirect('/tls443/a', 'example.com:80')).toEqual([301, 'https://example.com:443/tls443/a']);
  });

  it('path_redirect keeps the request query unless it has its own; strip_query drops the request query', () => {
    expect(redirect('/path/a?x=1')).toEqual([301, 'http://example.com/new?x=1']);
    expect(redirect('/path-query?x=1')).toEqual([301, 'http://example.com/new?y=2']);
    expect(redirect('/path-strip?x=1')).toEqual([301, 'http://example.com/new']);
    expect(redirect('/strip/a?x=1')).toEqual([301, 'http://example.com/strip/a']);
  });

  it('prefix_rewrite and regex_rewrite rewrite the path first', () => {
    expect(redirect('/prefix/a/b?x=1')).toEqual([301, 'http://example.com/renamed/a/b?x=1']);
    expect(redirect('/regex/a/b?x=1')).toEqual([301, 'http://example.com/r/a/b?x=1']);
  });

  it('response_code: 301 by default, 302, 303, 307, 308', () => {
    expect(redirect('/https')[0]).toBe(301);
    expect(redirect('/found')[0]).toBe(302);
    expect(redirect('/see-other')[0]).toBe(303);
    expect(redirect('/temporary')[0]).toBe(307);
    expect(redirect('/permanent')[0]).toBe(308);
  });

  it('the scheme comes from :scheme (or RouteRequest.scheme); x-forwarded-proto decides which port is default', () => {
    expect(location(table.route(get('/host/a', { scheme: 'https' })))).toEqual([301, 'https://other.com/host/a']);
    expect(redirect('/https/a', 'example.com:443', { ':scheme': 'https', 'x-forwarded-proto': 'https' })).toEqual([301, 'https://example.com:443/https/a']);
  });

  it('require_tls: ALL redirects plain requests to https; EXTERNAL_ONLY spares x-envoy-internal ones', () => {
    const tls = tableOf(`
route_config:
  virtual_hosts:
  - { name: all, domains: [all.com], require_tls: ALL, routes: [{ match: { prefix: / }, route: { cluster: a } }] }
  - { name: external, domains: [ext.com], require_tls: EXTERNAL_ONLY, routes: [{ match: { prefix: / }, route: { cluster: a } }] }
`);
    expect(location(tls.route(get('/a?x=1', { authority: 'all.com' })))).toEqual([301, 'https://all.com/a?x=1']);
    expect(tls.route(get('/a', { authority: 'all.com', headers: { 'x-forwarded-proto': 'https' } }))?.action.kind).toBe('route');
    expect(location(tls.route(get('/a', { authority: 'ext.com' })))).toEqual([301, 'https://ext.com/a']);
    expect(tls.route(get('/a', { authority: 'ext.com', headers: { 'x-envoy-internal': 'true' } }))?.action.kind).toBe('route');
  });
});

describe('direct responses', () => {
  it('bodies from inline_string, inline_bytes (base64) and filename (read once, at compile time)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'il-route-'));
    const file = join(dir, 'body.txt');
    writeFileSync(file, 'from a file\n');
    const table = routesTable(`
- { match: { path: /string }, direct_response: { status: 200, body: { inline_string: "Hello, world!" } } }
- { match: { path: /bytes }, direct_response: { status: 503, body: { inline_bytes: "AAECAw==" } } }
- { match: { path: /file }, direct_response: { status: 200, body: { filename: "${file}" } } }
- { match: { path: /empty }, direct_response: { status: 204 } }
`);
    writeFileSync(file, 'changed later');
    const body = (path: string) => {
      const action = table.route(get(path))?.action;
      if (action?.kind !== 'direct_response') throw new Error('expected a direct response');
      return [action.status, action.body];
    };
    expect(body('/string')).toEqual([200, Buffer.from('Hello, world!')]);
    expect(body('/bytes')).toEqual([503, Buffer.from([0, 1, 2, 3])]);
    expect(body('/file')).toEqual([200, Buffer.from('from a file\n')]);
    expect(body('/empty')).toEqual([204, undefined]);
  });

  it('a direct 201 or 3xx carries the request URL as Location, as Envoy router adds it', () => {
    const table = routesTable(`
- { match: { path: /moved }, direct_response: { status: 301 } }
- { match: { path: /ok }, direct_response: { status: 200 } }
`);
    const action = (path: string) => table.route(get(path, { authority: 'example.com:80' }))?.action;
    expect(action('/moved')).toMatchObject({ kind: 'direct_response', status: 301, location: 'http://example.com:80/moved' });
    expect(action('/ok')).toMatchObject({ kind: 'direct_response', status: 200, location: undefined });
  });
});

// ---------------------------------------------------------------- header mutations

describe('header mutations', () => {
  const LEVELS = `
route_config:
  request_headers_to_add:
  - { header: { key: x-level, value: config } }
  - { header: { key: x-winner, value: config }, append_action: OVERWRITE_IF_EXISTS_OR_ADD }
  response_headers_to_add:
  - { header: { key: x-level, value: config } }
  virtual_hosts:
  - name: vh
    domains: ["*"]
    request_headers_to_add:
    - { header: { key: x-level, value: vhost } }
    - { header: { key: x-winner, value: vhost }, append_action: OVERWRITE_IF_EXISTS_OR_ADD }
    response_headers_to_add:
    - { header: { key: x-level, value: vhost } }
    routes:
    - name: r
      match: { prefix: / }
      route: { cluster: a }
      request_headers_to_add:
      - { header: { key: x-level, value: route } }
      - { header: { key: x-winner, value: route }, append_action: OVERWRITE_IF_EXISTS_OR_ADD }
      response_headers_to_add:
      - { header: { key: X-Level, value: route } }
`;

  it("Envoy's order: route, then virtual host, then route configuration; the last overwrite wins", () => {
    const result = tableOf(LEVELS).route(get('/'));
    const request: HeaderMap = { 'x-level': 'client' };
    result?.mutateRequestHeaders(request, new StreamInfo());
    expect(request['x-level']).toEqual(['client', 'route', 'vhost', 'config']);
    expect(request['x-winner']).toBe('config');
    const response: HeaderMap = {};
    result?.mutateResponseHeaders(response, new StreamInfo());
    expect(response['x-level']).toEqual(['route', 'vhost', 'config']);
  });

  it('append_action: ADD_IF_ABSENT, OVERWRITE_IF_EXISTS, OVERWRITE_IF_EXISTS_OR_ADD, APPEND_IF_EXISTS_OR_ADD; removal comes first', () => {
    const table = routesTable(`
- match: { prefix: / }
  route: { cluster: a }
  request_headers_to_remove: [x-secret, x-replaced]
  request_headers_to_add:
  - { header: { key: x-absent-add, value: added }, append_action: ADD_IF_ABSENT }
  - { header: { key: x-present-add, value: ignored }, append_action: ADD_IF_ABSENT }
  - { header: { key: x-absent-overwrite, value: ignored }, append_action: OVERWRITE_IF_EXISTS }
  - { header: { key: x-present-overwrite, value: new }, append_action: OVERWRITE_IF_EXISTS }
  - { header: { key: x-forced, value: forced }, append_action: OVERWRITE_IF_EXISTS_OR_ADD }
  - { header: { key: x-appended, value: two } }
  - { header: { key: x-legacy, value: legacy }, append: false }
  - { header: { key: x-replaced, value: fresh } }
`);
    const headers: HeaderMap = {
      'x-secret': 's',
      'x-replaced': 'stale',
      'x-present-add': 'kept',
      'x-present-overwrite': 'old',
      'x-forced': 'old',
      'x-appended': 'one',
      'x-legacy': 'old',
    };
    table.route(get('/'))?.mutateRequestHeaders(headers, new StreamInfo());
    expect(headers).toEqual({
      'x-replaced': 'fresh',
      'x-absent-add': 'added',
      'x-present-add': 'kept',
      'x-present-overwrite': 'new',
      'x-forced': 'forced',
      'x-appended': ['one', 'two'],
      'x-legacy': 'legacy',
    });
  });

  it('values are format strings rendered against the StreamInfo; an empty value adds nothing unless keep_empty_value', () => {
    const table = routesTable(`
- name: formats
  match: { prefix: / }
  route: { cluster: a }
  request_headers_to_add:
  - { header: { key: x-client, value: "%DOWNSTREAM_REMOTE_ADDRESS%" } }
  - { header: { key: x-client-ip, value: "ip=%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT% 100%%" } }
  - { header: { key: x-user-copy, value: "%REQ(x-user)%" } }
  - { header: { key: x-missing, value: "%REQ(x-nope)%" } }
  - { header: { key: x-kept-empty, value: "%REQ(x-nope)%" }, keep_empty_value: true }
  response_headers_to_add:
  - { header: { key: x-route, value: "%ROUTE_NAME%" } }
  - { header: { key: x-upstream-echo, value: "%RESP(x-upstream)%" } }
`);
    const info = new StreamInfo();
    info.downstreamRemoteAddress = { kind: 'ip', ip: '192.0.2.7', port: 40001 };
    const result = table.route(get('/'));
    info.routeName = result?.route.name;
    const request: HeaderMap = { 'x-user': 'alice' };
    result?.mutateRequestHeaders(request, info);
    expect(request).toEqual({
      'x-user': 'alice',
      'x-client': '192.0.2.7:40001',
      'x-client-ip': 'ip=192.0.2.7 100%',
      'x-user-copy': 'alice',
      'x-kept-empty': '',
    });
    const response: HeaderMap = { 'x-upstream': 'up' };
    result?.mutateResponseHeaders(response, info);
    expect(response).toEqual({ 'x-upstream': 'up', 'x-route': 'formats', 'x-upstream-echo': 'up' });
    expect(info.requestHeaders).toBeUndefined(); // the StreamInfo is left as it was
  });

  it("a weighted cluster's own mutations come before the route's", () => {
    const table = routesTable(`
- match: { prefix: / }
  route:
    weighted_clusters:
      clusters:
      - name: a
        weight: 1
        request_headers_to_add: [{ header: { key: x-order, value: cluster } }]
        response_headers_to_add: [{ header: { key: x-cluster, value: a } }]
  request_headers_to_add: [{ header: { key: x-order, value: route } }]
`);
    const result = table.route(get('/'));
    const request: HeaderMap = {};
    result?.mutateRequestHeaders(request, new StreamInfo());
    expect(request['x-order']).toEqual(['cluster', 'route']);
    const response: HeaderMap = {};
    result?.mutateResponseHeaders(response, new StreamInfo());
    expect(response).toEqual({ 'x-cluster': 'a' });
  });
});

// ---------------------------------------------------------------- compile errors

describe('compile errors (RouteConfigError, with the field path and Envoy message)', () => {
  const base = () =>
    routeConfigOf(
      loadHcm(`
route_config:
  name: rc
  virtual_hosts:
  - { name: one, domains: [foo.com], routes: [{ match: { prefix: / }, route: { cluster: a } }] }
  - { name: two, domains: [bar.com], routes: [{ match: { prefix: / }, route: { cluster: a } }] }
`),
    );
  const compile = (config: RouteConfiguration) => compileRouteConfiguration(config, { upgradeConfigs: [] });

  it('a regex that does not compile', () => {
    const config = base();
    const [one, two] = config.virtual_hosts;
    if (one === undefined || two === undefined) throw new Error('unreachable');
    const [route] = one.routes;
    if (route === undefined) throw new Error('unreachable');
    const bad = { ...config, virtual_hosts: [{ ...one, routes: [{ ...route, match: { ...route.match, prefix: undefined, safe_regex: { regex: '/(' } } }] }, two] };
    const error = compileError(() => compile(bad));
    expect(error.path).toBe('virtual_hosts[0].routes[0].match.safe_regex.regex');
    expect(error.message).toMatch(/^virtual_hosts\[0\]\.routes\[0\]\.match\.safe_regex\.regex: Invalid regex '\/\(': /);
  });

  it('a domain in two virtual hosts (case-insensitively), and a second *', () => {
    const config = base();
    const [one, two] = config.virtual_hosts;
    if (one === undefined || two === undefined) throw new Error('unreachable');
    const duplicate = compileError(() => compile({ ...config, virtual_hosts: [one, { ...two, domains: ['FOO.com'] }] }));
    expect(duplicate.message).toBe('virtual_hosts[1].domains[0]: Only unique values for domains are permitted. Duplicate entry of domain foo.com in route rc');
    const wildcards = compileError(() => compile({ ...config, virtual_hosts: [{ ...one, domains: ['*'] }, { ...two, domains: ['*'] }] }));
    expect(wildcards.reason).toBe('Only a single wildcard domain is permitted in route rc');
  });

  it('a direct_response file that does not exist, or is over 4096 bytes', () => {
    const missing = compileError(() => routesTable('- { match: { prefix: / }, direct_response: { status: 200, body: { filename: /nonexistent/body.txt } } }'));
    expect(missing.path).toBe('virtual_hosts[0].routes[0].direct_response.body.filename');
    expect(missing.reason).toMatch(/^response body file \/nonexistent\/body\.txt does not exist/);
    const dir = mkdtempSync(join(tmpdir(), 'il-route-'));
    const big = join(dir, 'big.txt');
    writeFileSync(big, 'x'.repeat(5000));
    expect(compileError(() => routesTable(`- { match: { prefix: / }, direct_response: { status: 200, body: { filename: "${big}" } } }`)).reason).toBe(
      `response body file ${big} size is 5000 bytes; maximum is 4096`,
    );
    expect(compileError(() => routesTable(`- { match: { prefix: / }, direct_response: { status: 200, body: { inline_string: "${'y'.repeat(4097)}" } } }`)).reason).toBe(
      'response body size is 4097 bytes; maximum is 4096',
    );
  });

  it('a bad format string in a header value', () => {
    const error = compileError(() => routesTable('- { match: { prefix: / }, route: { cluster: a }, request_headers_to_add: [{ header: { key: x-a, value: "%NO_SUCH_OPERATOR%" } }] }'));
    expect(error.path).toBe('virtual_hosts[0].routes[0].request_headers_to_add[0].header.value');
    expect(error.reason).toMatch(/^Not supported field in StreamInfo: NO_SUCH_OPERATOR/);
    expect(compileError(() => routesTable('- { match: { prefix: / }, route: { cluster: a }, response_headers_to_add: [{ header: { key: x-a, value: "50%" } }] }')).reason).toMatch(
      /Couldn't find valid command at position 2/,
    );
  });

  it('pseudo-headers and host cannot be added or removed', () => {
    expect(compileError(() => routesTable('- { match: { prefix: / }, route: { cluster: a }, request_headers_to_add: [{ header: { key: ":path", value: /x } }] }')).reason).toBe(
      ':-prefixed or host headers may not be modified',
    );
    expect(compileError(() => routesTable('- { match: { prefix: / }, route: { cluster: a }, request_headers_to_remove: [Host] }')).message).toBe(
      'virtual_hosts[0].routes[0].request_headers_to_remove[0]: :-prefixed or host headers may not be removed',
    );
  });

  it('an upgrade type listed twice on a route, or a regex_rewrite substitution naming a missing group', () => {
    expect(compileError(() => routesTable('- { match: { prefix: / }, route: { cluster: a, upgrade_configs: [{ upgrade_type: websocket }, { upgrade_type: WebSocket }] } }')).reason).toBe(
      'Duplicate upgrade WebSocket',
    );
    expect(
      compileError(() => routesTable('- { match: { prefix: / }, route: { cluster: a, regex_rewrite: { pattern: { regex: "^/(a)$" }, substitution: "\\\\2" } } }')).path,
    ).toBe('virtual_hosts[0].routes[0].route.regex_rewrite.substitution');
  });
});
