// Route matching cost per request with regex routes (issue: safe_regex in linear time). Compares,
// in one process and interleaved round by round:
//   - a route table of 20 safe_regex routes, matched by @il/http-connect (RE2 semantics, re2js);
//   - the same 20 patterns tried in turn with JavaScript's RegExp, the engine il used before
//     (backtracking: the last row shows what one hostile 32-byte path costs it);
//   - a table of 20 prefix routes, for scale.
// Prints one JSON object on stdout. Usage: node bench/routes/route-match.mjs [--rounds N] [--ms M]
import { parseArgs } from 'node:util';
import { loadConfig } from '../../packages/config/dist/index.js';
import { compileRouteConfiguration } from '../../packages/http-connect/dist/index.js';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '5' }, ms: { type: 'string', default: '300' } } });
const ROUNDS = Number(values.rounds);
const MS = Number(values.ms);
const ROUTES = 20;

/** @param {(i: number) => string} match */
function table(match) {
  const routes = Array.from({ length: ROUTES }, (_, i) => `              - { match: ${match(i)}, direct_response: { status: 200 } }`).join('\n');
  const { bootstrap } = loadConfig({
    name: 'bench.yaml',
    text: `static_resources:
  listeners:
  - name: l
    address: { socket_address: { address: 127.0.0.1, port_value: 1 } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: b
          http_filters: [{ name: envoy.filters.http.router, typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router } }]
          route_config:
            virtual_hosts:
            - name: vh
              domains: ["*"]
              routes:
${routes}
`,
  });
  const hcm = bootstrap.static_resources.listeners[0].filter_chains[0].filters[0].typed_config;
  return compileRouteConfiguration(hcm.route_config, { upgradeConfigs: hcm.upgrade_configs, stripAnyHostPort: false, stripMatchingHostPort: false });
}

const patterns = Array.from({ length: ROUTES }, (_, i) => `/api/v[0-9]+/svc${i}/[^/]+`);
const regexTable = table((i) => `{ safe_regex: { regex: "${patterns[i]}" } }`);
const prefixTable = table((i) => `{ prefix: "/api/v1/svc${i}/" }`);
const jsRegexps = patterns.map((p) => new RegExp(`^(?:${p})$`));
// The request hits the last route, so every route is tried.
const path = `/api/v1/svc${ROUTES - 1}/item42`;
const request = { method: 'GET', authority: 'example.com', path, headers: {} };

/** Nanoseconds per call of `fn` over about MS milliseconds. @param {() => unknown} fn */
function nsPerCall(fn) {
  let calls = 0;
  const started = performance.now();
  const until = started + MS;
  while (performance.now() < until) for (let i = 0; i < 1000; i++, calls++) fn();
  return ((performance.now() - started) * 1e6) / calls;
}

const kinds = {
  're2-route-table': () => regexTable.route(request),
  'js-regexp-patterns': () => jsRegexps.some((r) => r.test(path)),
  'prefix-route-table': () => prefixTable.route(request),
};
if (regexTable.route(request) === undefined || prefixTable.route(request) === undefined) throw new Error('the bench request matches no route');
/** @type {Record<string, number[]>} */
const ns = Object.fromEntries(Object.keys(kinds).map((k) => [k, []]));
for (let round = 0; round < ROUNDS; round++) for (const [kind, fn] of Object.entries(kinds)) ns[kind].push(nsPerCall(fn));

// One hostile path against "/(a+)+b": RE2 in microseconds; RegExp grows 2x per extra "a", so it is
// measured at 20 "a"s and the 30 of the issue is extrapolated (running it would take ~50 s).
const hostileRe2 = table(() => '{ safe_regex: { regex: "/(a+)+b" } }');
const hostile = (n) => ({ method: 'GET', authority: 'x', path: `/${'a'.repeat(n)}c`, headers: {} });
let t = performance.now();
hostileRe2.route(hostile(30));
const re2HostileMs = performance.now() - t;
t = performance.now();
hostileRe2.route(hostile(64 * 1024));
const re2Hostile64kMs = performance.now() - t;
const evil = /^(?:\/(a+)+b)$/;
t = performance.now();
evil.test(`/${'a'.repeat(20)}c`);
const jsHostile20Ms = performance.now() - t;

process.stdout.write(
  `${JSON.stringify({
    routes: ROUTES,
    nsPerRequest: ns,
    hostile: { re2Path32Ms: re2HostileMs, re2Path64KiBMs: re2Hostile64kMs, regexpPath22Ms: jsHostile20Ms, regexpPath32MsExtrapolated: jsHostile20Ms * 1024 },
  })}\n`,
);
