import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../../test-support/wait.js';
import { startAdmin } from '../src/admin/server.js';
import { fakeContext, startFake, type Running } from './admin-helpers.js';
import { parsePrometheus } from './prometheus-parser.js';

const POST_ONLY = ['/quitquitquit', '/healthcheck/fail', '/healthcheck/ok', '/drain_listeners', '/reopen_logs'];
const ALL_PATHS = ['/', '/clusters', '/config_dump', '/help', '/listeners', '/logging', '/ready', '/runtime', '/server_info', '/stats', '/stats/prometheus', ...POST_ONLY];

let admin: Running;

beforeAll(async () => {
  admin = await startFake();
  const { store } = admin.fake;
  const cluster0 = store.root.taggedScope('cluster', 'cluster_0', 'envoy_cluster_name');
  cluster0.counter('upstream_cx_total').inc(3);
  cluster0.gauge('upstream_cx_active').set(2);
  const connect = cluster0.histogram('upstream_cx_connect_ms');
  for (const value of [1, 3, 7, 40, 40]) connect.record(value);
  const cluster1 = store.root.taggedScope('cluster', 'cluster_1', 'envoy_cluster_name');
  cluster1.counter('upstream_cx_total').inc(5);
  cluster1.gauge('upstream_cx_active');
  cluster1.counter('upstream_cx_connect_fail');
  store.root.taggedScope('cluster', 'we"ird\\one', 'envoy_cluster_name').counter('upstream_cx_total').inc();
  const http = store.root.taggedScope('http', 'ingress_http', 'envoy_http_conn_manager_prefix');
  http.counter('downstream_rq_total').inc(11);
  http.histogram('downstream_rq_time').record(12);
  store.root.gauge('server.live').set(1);
  store.root.counter('server.never_used');
  store.root.histogram('server.initialization_time_ms').record(250);
  store.root.histogram('server.unused_ms');
});

afterAll(async () => {
  await admin.admin.close();
});

describe('admin endpoints', () => {
  it('/ is an HTML index linking every endpoint with a description', async () => {
    const res = await admin.get('/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=UTF-8');
    const html = await res.text();
    for (const path of ALL_PATHS.filter((p) => p !== '/')) {
      const post = POST_ONLY.includes(path);
      expect(html, path).toContain(post ? `action="${path}"` : `href="${path}"`);
    }
    expect(html).toContain('print server state, return 200 if LIVE, otherwise return 503');
  });

  it("/help and unknown paths list the commands, Envoy's way", async () => {
    const help = await (await admin.get('/help')).text();
    expect(help.startsWith('admin commands are:\n')).toBe(true);
    expect(help).toContain('  /quitquitquit (POST): exit the server\n');
    expect(help).toContain('  /stats: print server stats\n      usedonly: ');
    for (const path of ALL_PATHS) expect(help).toContain(`  ${path}`);

    const missing = await admin.get('/nope?x=1');
    expect(missing.status).toBe(404);
    expect(await missing.text()).toBe(`invalid path. ${help}`);
    expect((await admin.get('/stats/')).status).toBe(404);
  });

  it('answers with no-cache headers and plain text by default', async () => {
    const res = await admin.get('/ready');
    expect(res.headers.get('content-type')).toBe('text/plain; charset=UTF-8');
    expect(res.headers.get('cache-control')).toBe('no-cache, max-age=0');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('/ready is 200 LIVE when live, else 503 with the state', async () => {
    const live = await admin.get('/ready');
    expect([live.status, await live.text()]).toEqual([200, 'LIVE\n']);
    for (const state of ['PRE_INITIALIZING', 'INITIALIZING', 'DRAINING'] as const) {
      admin.fake.state = state;
      const res = await admin.get('/ready');
      expect([res.status, await res.text()]).toEqual([503, `${state}\n`]);
    }
    admin.fake.state = 'LIVE';
  });

  it('/healthcheck/fail and /ok flip the health check, which /ready reports as DRAINING, as Envoy does', async () => {
    const fail = await admin.post('/healthcheck/fail');
    expect([fail.status, await fail.text()]).toEqual([200, 'OK\n']);
    expect(admin.fake.healthFailed).toBe(true);
    const ready = await admin.get('/ready');
    expect([ready.status, await ready.text()]).toEqual([503, 'DRAINING\n']);
    expect(((await (await admin.get('/server_info')).json()) as { state: string }).state).toBe('DRAINING');

    const ok = await admin.post('/healthcheck/ok');
    expect([ok.status, await ok.text()]).toEqual([200, 'OK\n']);
    expect(admin.fake.healthFailed).toBe(false);
    expect((await admin.get('/ready')).status).toBe(200);
  });

  it('/server_info is JSON with version, state, uptime, options and node', async () => {
    const res = await admin.get('/server_info');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toEqual({
      version: 'il-proxy/0.0.0/Node.js v20/envoy-api-v3',
      state: 'LIVE',
      uptime_current_epoch: '12s',
      uptime_all_epochs: '12s',
      hot_restart_version: 'disabled',
      command_line_options: { config_path: 'x.yaml', mode: 'Serve' },
      node: { id: 'node-1', cluster: 'front' },
    });
  });

  it('/stats is name: value lines, counters and gauges sorted together, then histogram summaries', async () => {
    const res = await admin.get('/stats');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; charset=UTF-8');
    const lines = (await res.text()).trimEnd().split('\n');
    const numeric = lines.filter((line) => /: -?\d+$/.test(line));
    expect(numeric).toEqual([
      'cluster.cluster_0.upstream_cx_active: 2',
      'cluster.cluster_0.upstream_cx_total: 3',
      'cluster.cluster_1.upstream_cx_active: 0',
      'cluster.cluster_1.upstream_cx_connect_fail: 0',
      'cluster.cluster_1.upstream_cx_total: 5',
      'cluster.we"ird\\one.upstream_cx_total: 1',
      'http.ingress_http.downstream_rq_total: 11',
      'server.live: 1',
      'server.never_used: 0',
    ]);
    expect(lines.slice(0, numeric.length)).toEqual(numeric);
    const histograms = lines.slice(numeric.length);
    expect(histograms.map((line) => line.slice(0, line.indexOf(':')))).toEqual([
      'cluster.cluster_0.upstream_cx_connect_ms',
      'http.ingress_http.downstream_rq_time',
      'server.initialization_time_ms',
      'server.unused_ms',
    ]);
    const summary = /^[\w.]+: P0\(nan,[\d.]+\) P25\(nan,[\d.]+\) P50\(nan,[\d.]+\) P75\(nan,[\d.]+\) P90\(nan,[\d.]+\) P95\(nan,[\d.]+\) P99\(nan,[\d.]+\) P99\.5\(nan,[\d.]+\) P99\.9\(nan,[\d.]+\) P100\(nan,[\d.]+\)$/;
    for (const line of histograms.slice(0, 3)) expect(line).toMatch(summary);
    expect(histograms[3]).toBe('server.unused_ms: No recorded values');
  });

  it('/stats?format=json is {"stats":[{name,value}...,{histograms}]}', async () => {
    const res = await admin.get('/stats?format=json');
    expect(res.headers.get('content-type')).toBe('application/json');
    const body = (await res.json()) as { stats: ({ name: string; value: number } | { histograms: unknown })[] };
    const numeric = body.stats.filter((entry): entry is { name: string; value: number } => 'name' in entry);
    expect(numeric).toContainEqual({ name: 'cluster.cluster_0.upstream_cx_total', value: 3 });
    expect(numeric).toContainEqual({ name: 'cluster.cluster_0.upstream_cx_active', value: 2 });
    expect(numeric.map((entry) => entry.name)).toEqual([...numeric.map((entry) => entry.name)].sort());
    const last = body.stats.at(-1) as {
      histograms: { supported_quantiles: number[]; computed_quantiles: { name: string; values: { interval: unknown; cumulative: number | null }[] }[] };
    };
    expect(last.histograms.supported_quantiles).toEqual([0, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 100]);
    const connect = last.histograms.computed_quantiles.find((h) => h.name === 'cluster.cluster_0.upstream_cx_connect_ms');
    expect(connect?.values).toHaveLength(10);
    expect(connect?.values.every((v) => v.interval === null && typeof v.cumulative === 'number')).toBe(true);
    const unused = last.histograms.computed_quantiles.find((h) => h.name === 'server.unused_ms');
    expect(unused?.values.every((v) => v.cumulative === null)).toBe(true);
    expect((await (await admin.get('/stats?format=json&pretty')).text()).split('\n').length).toBeGreaterThan(10);
  });

  it('/stats?filter=REGEX, ?usedonly and ?type= select stats', async () => {
    const text = async (query: string) => (await (await admin.get(`/stats${query}`)).text()).trimEnd().split('\n');
    expect(await text('?filter=cluster_1')).toEqual([
      'cluster.cluster_1.upstream_cx_active: 0',
      'cluster.cluster_1.upstream_cx_connect_fail: 0',
      'cluster.cluster_1.upstream_cx_total: 5',
    ]);
    expect(await text('?filter=upstream_cx_total%24&usedonly')).toEqual([
      'cluster.cluster_0.upstream_cx_total: 3',
      'cluster.cluster_1.upstream_cx_total: 5',
      'cluster.we"ird\\one.upstream_cx_total: 1',
    ]);
    const used = await text('?usedonly');
    expect(used).not.toContain('server.never_used: 0');
    expect(used).not.toContain('cluster.cluster_1.upstream_cx_active: 0');
    expect(used.some((line) => line.startsWith('server.unused_ms'))).toBe(false);
    expect(await text('?type=Gauges')).toEqual(['cluster.cluster_0.upstream_cx_active: 2', 'cluster.cluster_1.upstream_cx_active: 0', 'server.live: 1']);
    expect((await text('?type=Histograms')).every((line) => / P0\(|No recorded values/.test(line))).toBe(true);
    expect(await text('?type=Counters&filter=^server')).toEqual(['server.never_used: 0']);
    expect(await (await admin.get('/stats?type=TextReadouts')).text()).toBe('');
    const json: unknown = await (await admin.get('/stats?format=json&filter=cluster_0&type=Counters')).json();
    expect(json).toEqual({ stats: [{ name: 'cluster.cluster_0.upstream_cx_total', value: 3 }] });
  });

  it('bad /stats parameters are 400 with a message', async () => {
    const badRegex = await admin.get('/stats?filter=(unclosed');
    expect(badRegex.status).toBe(400);
    expect(await badRegex.text()).toMatch(/^Invalid regex: /);
    const badType = await admin.get('/stats?type=Everything');
    expect([badType.status, await badType.text()]).toEqual([400, 'invalid &type= param\n']);
    const badFormat = await admin.get('/stats?format=xml');
    expect(badFormat.status).toBe(400);
    expect(await badFormat.text()).toMatch(/^usage: \/stats\?format=/);
    expect((await admin.get('/stats/prometheus?filter=[')).status).toBe(400);
  });

  it('/stats/prometheus is valid exposition format with Envoy names and tags', async () => {
    const res = await admin.get('/stats/prometheus');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await res.text();
    expect(text).toContain('# TYPE envoy_cluster_upstream_cx_total counter\n');
    expect(text).toContain('envoy_cluster_upstream_cx_total{envoy_cluster_name="cluster_0"} 3\n');
    expect(text).toContain('envoy_cluster_upstream_cx_total{envoy_cluster_name="we\\"ird\\\\one"} 1\n');
    expect(text).toContain('envoy_server_live 1\n');
    expect(text).toContain('envoy_cluster_upstream_cx_connect_ms_bucket{envoy_cluster_name="cluster_0",le="5"} 2\n');

    // Every family exactly once, its TYPE first, samples only under their TYPE.
    const types = [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => m[1]);
    expect(new Set(types).size).toBe(types.length);
    let family = '';
    for (const line of text.split('\n')) {
      if (line === '') continue;
      const type = /^# TYPE (\S+) /.exec(line);
      if (type) {
        family = type[1] as string;
        continue;
      }
      expect(line).toMatch(/^[a-zA-Z_][a-zA-Z0-9_]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\.)*",?)*\})? \S+$/);
      expect(line.startsWith(family)).toBe(true);
    }

    const families = parsePrometheus(text);
    const byName = new Map(families.map((f) => [f.name, f]));
    expect(families.map((f) => f.name)).toEqual(types);
    const total = byName.get('envoy_cluster_upstream_cx_total');
    expect(total?.type).toBe('COUNTER');
    expect(total?.metrics).toEqual([
      { labels: { envoy_cluster_name: 'cluster_0' }, value: '3' },
      { labels: { envoy_cluster_name: 'cluster_1' }, value: '5' },
      { labels: { envoy_cluster_name: 'we"ird\\one' }, value: '1' },
    ]);
    expect(byName.get('envoy_cluster_upstream_cx_active')).toMatchObject({
      type: 'GAUGE',
      metrics: [
        { labels: { envoy_cluster_name: 'cluster_0' }, value: '2' },
        { labels: { envoy_cluster_name: 'cluster_1' }, value: '0' },
      ],
    });
    expect(byName.get('envoy_http_downstream_rq_total')?.metrics).toEqual([{ labels: { envoy_http_conn_manager_prefix: 'ingress_http' }, value: '11' }]);
    expect(byName.get('envoy_server_live')?.metrics).toEqual([{ value: '1' }]);

    const connect = byName.get('envoy_cluster_upstream_cx_connect_ms');
    expect(connect?.type).toBe('HISTOGRAM');
    // Samples 1, 3, 7, 40, 40 against Envoy's default bounds.
    expect(connect?.metrics[0]?.buckets).toMatchObject({ '0.5': '0', '1': '1', '5': '2', '10': '3', '25': '3', '50': '5', '3600000': '5', '+Inf': '5' });
    const init = byName.get('envoy_server_initialization_time_ms');
    expect(init?.type).toBe('HISTOGRAM');
    expect(init?.metrics[0]).toMatchObject({ count: '1', sum: '250', buckets: { '100': '0', '250': '1', '+Inf': '1' } });
    expect(text).toContain('envoy_cluster_upstream_cx_connect_ms_sum{envoy_cluster_name="cluster_0"} 91\n');
    expect(text).toContain('envoy_cluster_upstream_cx_connect_ms_count{envoy_cluster_name="cluster_0"} 5\n');
  });

  it('/stats/prometheus honours usedonly and filter; /stats?format=prometheus is the same output', async () => {
    const used = await (await admin.get('/stats/prometheus?usedonly')).text();
    expect(used).not.toContain('envoy_server_never_used');
    expect(used).not.toContain('envoy_server_unused_ms');
    expect(used).not.toContain('envoy_cluster_upstream_cx_connect_fail');
    expect(parsePrometheus(used).length).toBeGreaterThan(3);
    const filtered = await (await admin.get('/stats/prometheus?filter=cluster_1')).text();
    expect(parsePrometheus(filtered).map((f) => f.name)).toEqual([
      'envoy_cluster_upstream_cx_connect_fail',
      'envoy_cluster_upstream_cx_total',
      'envoy_cluster_upstream_cx_active',
    ]);
    const same = await admin.get('/stats?format=prometheus');
    expect(same.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(await same.text()).toBe(await (await admin.get('/stats/prometheus')).text());
  });

  it("/clusters is Envoy's cluster::host::stat::value text", async () => {
    const res = await admin.get('/clusters');
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain(
      [
        'cluster_0::default_priority::max_connections::1024',
        'cluster_0::default_priority::max_pending_requests::1024',
        'cluster_0::default_priority::max_requests::1024',
        'cluster_0::default_priority::max_retries::3',
        'cluster_0::added_via_api::false',
        'cluster_0::127.0.0.1:10001::cx_active::1',
        'cluster_0::127.0.0.1:10001::cx_connect_fail::0',
        'cluster_0::127.0.0.1:10001::cx_total::3',
        'cluster_0::127.0.0.1:10001::rq_total::7',
        'cluster_0::127.0.0.1:10001::health_flags::healthy',
        'cluster_0::127.0.0.1:10001::weight::1',
        'cluster_0::127.0.0.1:10001::success_rate::-1',
      ].join('\n'),
    );
    expect(text).toContain('cluster_0::[::1]:10002::health_flags::/failed_eds_health\n');
    expect(text).toContain('decap::default_priority::max_retries::4\n');
    expect(text).toContain('decap::envoy://decap/::cx_total::1\n');
  });

  it('/clusters?format=json is admin.v3.Clusters', async () => {
    const res = await admin.get('/clusters?format=json');
    expect(res.headers.get('content-type')).toBe('application/json');
    const body = (await res.json()) as { cluster_statuses: unknown[] };
    expect(body.cluster_statuses[0]).toEqual({
      name: 'cluster_0',
      added_via_api: false,
      circuit_breakers: {
        thresholds: [{ priority: 'DEFAULT', max_connections: 1024, max_pending_requests: 1024, max_requests: 1024, max_retries: 3 }],
      },
      host_statuses: [
        {
          address: { socket_address: { address: '127.0.0.1', port_value: 10001 } },
          stats: [
            { name: 'cx_active', value: '1', type: 'GAUGE' },
            { name: 'cx_connect_fail', value: '0', type: 'COUNTER' },
            { name: 'cx_total', value: '3', type: 'COUNTER' },
            { name: 'rq_total', value: '7', type: 'COUNTER' },
          ],
          health_status: { eds_health_status: 'HEALTHY' },
          weight: 1,
        },
        {
          address: { socket_address: { address: '::1', port_value: 10002 } },
          stats: [
            { name: 'cx_active', value: '0', type: 'GAUGE' },
            { name: 'cx_total', value: '0', type: 'COUNTER' },
          ],
          health_status: { eds_health_status: 'UNHEALTHY' },
          weight: 2,
        },
      ],
    });
    expect(body.cluster_statuses[1]).toMatchObject({ host_statuses: [{ address: { envoy_internal_address: { server_listener_name: 'decap' } } }] });
  });

  it('/listeners is name::address lines, or JSON', async () => {
    expect(await (await admin.get('/listeners')).text()).toBe('listener_0::127.0.0.1:10000\nencap::envoy://encap/\n');
    const res = await admin.get('/listeners?format=json');
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toEqual({
      listener_statuses: [
        { name: 'listener_0', local_address: { socket_address: { address: '127.0.0.1', port_value: 10000 } } },
        { name: 'encap', local_address: { envoy_internal_address: { server_listener_name: 'encap' } } },
      ],
    });
  });

  it("/config_dump is Envoy's ConfigDump, pretty JSON", async () => {
    const res = await admin.get('/config_dump');
    expect(res.headers.get('content-type')).toBe('application/json');
    const text = await res.text();
    expect(text).toContain('\n  "configs": [');
    const body = JSON.parse(text) as { configs: Record<string, unknown>[] };
    expect(body.configs.map((c) => c['@type'])).toEqual([
      'type.googleapis.com/envoy.admin.v3.BootstrapConfigDump',
      'type.googleapis.com/envoy.admin.v3.ClustersConfigDump',
      'type.googleapis.com/envoy.admin.v3.ListenersConfigDump',
    ]);
    expect(body.configs[0]?.bootstrap).toEqual(admin.fake.configDump);
    expect(body.configs[1]?.static_clusters).toEqual([
      { cluster: { '@type': 'type.googleapis.com/envoy.config.cluster.v3.Cluster', name: 'cluster_0', connect_timeout: '5s' } },
    ]);
    expect((body.configs[2]?.static_listeners as { listener: { name: string } }[])[0]?.listener.name).toBe('listener_0');
    expect((await admin.get('/config_dump?resource=static_listeners')).status).toBe(400);
  });

  it('/runtime is JSON layers and entries', async () => {
    const res = await admin.get('/runtime');
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toEqual({
      layers: ['static_layer'],
      entries: {
        'envoy.reloadable_features.example': { final_value: 'true', layer_values: ['true'] },
        'overload.global_downstream_max_connections': { final_value: '1000', layer_values: ['1000'] },
      },
    });
  });

  it.each(POST_ONLY)('%s rejects GET with 405, as Envoy', async (path) => {
    const before = { ...admin.fake, drains: admin.fake.drains.length };
    const res = await admin.get(path);
    expect(res.status).toBe(405);
    expect(await res.text()).toBe('Method GET not allowed, POST required.\n');
    expect(admin.fake.quits).toBe(before.quits);
    expect(admin.fake.reopens).toBe(before.reopens);
    expect(admin.fake.healthFailed).toBe(before.healthFailed);
    expect(admin.fake.drains.length).toBe(before.drains);
  });

  it('POST /drain_listeners passes graceful and inboundonly', async () => {
    admin.fake.drains.length = 0;
    expect(await (await admin.post('/drain_listeners')).text()).toBe('OK\n');
    expect(await (await admin.post('/drain_listeners?graceful&inboundonly')).text()).toBe('OK\n');
    expect(admin.fake.drains).toEqual([
      { graceful: false, inboundOnly: false },
      { graceful: true, inboundOnly: true },
    ]);
  });

  it('POST /reopen_logs reopens', async () => {
    const before = admin.fake.reopens;
    expect(await (await admin.post('/reopen_logs')).text()).toBe('OK\n');
    expect(admin.fake.reopens).toBe(before + 1);
  });

  it('HEAD gets the headers only', async () => {
    const res = await fetch(`${admin.url}/ready`, { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBe('5');
    expect(await res.text()).toBe('');
  });

  it('logs each request at debug on the admin logger', async () => {
    admin.fake.logging.setLevel('admin', 'debug');
    await (await admin.get('/ready?probe=1')).text();
    const logged = (line: string): boolean => /\]\[debug\]\[admin\] GET \/ready\?probe=1 200 5 \d+ms\n$/.test(line);
    await waitFor(() => admin.fake.lines.some(logged), 10_000, 'the debug line for the request');
    expect(admin.fake.lines.some(logged)).toBe(true);
    admin.fake.logging.setLevel('admin', 'info');
  });
});

describe('admin lifecycle', () => {
  it('POST /quitquitquit answers OK, then calls quit()', async () => {
    const running = await startFake();
    const res = await running.post('/quitquitquit');
    expect([res.status, await res.text()]).toEqual([200, 'OK\n']);
    await waitFor(() => running.fake.quits > 0, 10_000, 'quit() to be called');
    expect(running.fake.quits).toBe(1);
    await running.admin.close();
  });

  it('a handler that throws is a 500, and the admin goes on', async () => {
    const fake = fakeContext();
    fake.context.listeners = () => {
      throw new Error('listener manager is gone');
    };
    fake.context.drainListeners = () => Promise.reject(new Error('drain exploded'));
    const running = await startFake(fake);
    const res = await running.get('/listeners');
    expect([res.status, await res.text()]).toEqual([500, 'error: listener manager is gone\n']);
    expect((await running.post('/drain_listeners')).status).toBe(200);
    // The drain fails after the answer; the admin must still serve once it has.
    await waitFor(() => fake.lines.some((line) => line.includes('[error][admin] drain_listeners failed')), 10_000, 'the drain failure to be logged');
    expect((await running.get('/ready')).status).toBe(200);
    expect(fake.lines.some((line) => line.includes('[error][admin] admin GET /listeners failed'))).toBe(true);
    expect(fake.lines.some((line) => line.includes('[error][admin] drain_listeners failed'))).toBe(true);
    await running.admin.close();
  });

  it('a malformed request is answered 400 without harm', async () => {
    const running = await startFake();
    const { connect } = await import('node:net');
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect(running.admin.port as number, '127.0.0.1', () => socket.write('NOT HTTP AT ALL\r\n\r\n'));
      let data = '';
      socket.on('data', (chunk: Buffer) => (data += chunk.toString()));
      socket.on('end', () => resolve(data));
      socket.on('error', reject);
    });
    expect(reply).toMatch(/^HTTP\/1\.1 400 /);
    expect((await running.get('/ready')).status).toBe(200);
    await running.admin.close();
  });

  it('a taken port rejects with the address and the reason; close() is idempotent and closes keep-alive connections', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    const fake = fakeContext();
    await expect(startAdmin(fake.context, { host: '127.0.0.1', port }, fake.logging.logger('admin'))).rejects.toThrow(
      `admin: cannot listen on 127.0.0.1:${port}: address already in use`,
    );
    await new Promise((resolve) => blocker.close(resolve));

    const running = await startFake(fake);
    expect(running.admin.address).toBe(`127.0.0.1:${running.admin.port}`);
    expect((await running.get('/ready')).status).toBe(200);
    await Promise.all([running.admin.close(), running.admin.close()]);
    await expect(running.get('/ready')).rejects.toThrow();
  });

  it('listens on a pipe, and writes its address to --admin-address-path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'il-admin-'));
    const fake = fakeContext();
    const pipe = await startAdmin(fake.context, { path: join(dir, 'admin.sock') }, fake.logging.logger('admin'), {
      addressPath: join(dir, 'admin.addr'),
    });
    expect(pipe.address).toBe(join(dir, 'admin.sock'));
    expect(pipe.port).toBeUndefined();
    expect(readFileSync(join(dir, 'admin.addr'), 'utf8')).toBe(join(dir, 'admin.sock'));
    const { request } = await import('node:http');
    const body = await new Promise<string>((resolve, reject) => {
      request({ socketPath: pipe.address, path: '/ready' }, (res) => {
        let data = '';
        res.on('data', (chunk: Buffer) => (data += chunk.toString()));
        res.on('end', () => resolve(data));
      })
        .on('error', reject)
        .end();
    });
    expect(body).toBe('LIVE\n');
    await pipe.close();

    const tcp = await startAdmin(fake.context, { host: '127.0.0.1', port: 0 }, fake.logging.logger('admin'), { addressPath: join(dir, 'tcp.addr') });
    expect(readFileSync(join(dir, 'tcp.addr'), 'utf8')).toBe(`127.0.0.1:${tcp.port}`);
    expect(fake.lines.some((line) => line.includes(`[info][admin] admin address: 127.0.0.1:${tcp.port}`))).toBe(true);
    await tcp.close();
  });
});
