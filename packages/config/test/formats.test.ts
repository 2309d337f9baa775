import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { dump, loadConfig, loadConfigFile, toJsonSchema } from '../src/index.js';
import { EXAMPLES_DIR, REPO_ROOT, issuesOf, load, yaml } from './helpers.js';
import { schemaErrors } from './json-schema-check.js';

const ENVOY_CONFIGS = process.env.IL_ENVOY_CONFIGS ?? join(REPO_ROOT, '..', 'shared', 'envoy-configs');
const files = [
  ...readdirSync(EXAMPLES_DIR).filter((f) => f.endsWith('.yaml')).map((f) => join(EXAMPLES_DIR, f)),
  ...readdirSync(ENVOY_CONFIGS).filter((f) => f.endsWith('.yaml')).map((f) => join(ENVOY_CONFIGS, f)),
];

/** Renames every field to its proto-JSON lowerCamel name (map keys and "@type" stay). */
function toCamel(value: unknown, mapOfKeys = false): unknown {
  if (Array.isArray(value)) return value.map((item) => toCamel(item));
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [
      mapOfKeys ? key : key.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase()),
      key === 'typed_extension_protocol_options' ? Object.fromEntries(Object.entries(item as object).map(([k, v]) => [k, toCamel(v)])) : toCamel(item),
    ]),
  );
}

describe('spellings and encodings', () => {
  it.each(files)('camelCase and snake_case give the same bootstrap: %s', (file) => {
    const snake = loadConfigFile(file).bootstrap;
    const camel = loadConfig({ value: toCamel(parse(readFileSync(file, 'utf8'))), name: 'camel' }).bootstrap;
    expect(camel).toEqual(snake);
  });

  it('accepts enums by number and integers written as strings', () => {
    const { bootstrap } = load(yaml`
      static_resources:
        clusters: [{ name: c, lb_policy: 3, dns_lookup_family: 1, circuit_breakers: { thresholds: [{ max_connections: "7" }] } }]
    `);
    const cluster = bootstrap.static_resources.clusters[0];
    expect(cluster?.lb_policy).toBe('RANDOM');
    expect(cluster?.dns_lookup_family).toBe('V4_ONLY');
    expect(cluster?.circuit_breakers.thresholds[0]?.max_connections).toBe(7);
  });

  it('reads durations in both proto forms', () => {
    const { bootstrap } = load(yaml`
      static_resources:
        clusters:
        - { name: a, connect_timeout: 0.25s }
        - { name: b, connect_timeout: { seconds: 1, nanos: 500000000 } }
        - { name: c, connect_timeout: 0.000001s }
    `);
    expect(bootstrap.static_resources.clusters.map((c) => [c.connect_timeout.ms, c.connect_timeout.toJSON()])).toEqual([
      [250, '0.250s'],
      [1500, '1.500s'],
      [0.001, '0.000001s'],
    ]);
  });

  it('treats null as unset, as proto3 JSON does', () => {
    const { bootstrap } = load('admin:\nnode: { id: n, locality: ~ }\n');
    expect(bootstrap.admin).toBeUndefined();
    expect(bootstrap.node).toEqual({ id: 'n', cluster: '' });
  });

  it('reports positions in JSON sources', () => {
    const text = '{\n  "static_resources": {\n    "clusters": [\n      { "name": "c", "connectTimeout": 5 }\n    ]\n  }\n}\n';
    expect(issuesOf({ text, name: 'c.json' })).toEqual([
      { source: 'c.json', path: 'static_resources.clusters[0].connect_timeout', message: 'expected a duration such as "5s" or "0.25s"', line: 4, column: 40 },
    ]);
  });

  it('reports JSON syntax errors with a position', () => {
    const [issue] = issuesOf({ text: '{\n  "admin": {,}\n}', name: 'broken.json' });
    expect(issue).toMatchObject({ source: 'broken.json', path: '', line: 2, column: 13 });
    expect(issue?.message).toMatch(/^JSON syntax error: /);
  });

  it('reports YAML syntax errors with a position', () => {
    expect(issuesOf({ text: 'admin:\n  address: [\n', name: 'broken.yaml' })[0]).toMatchObject({ source: 'broken.yaml', line: 3 });
    expect(issuesOf({ text: 'admin: {}\nadmin: {}\n', name: 'dup.yaml' })).toEqual([
      { source: 'dup.yaml', path: '', message: 'YAML syntax error: Map keys must be unique', line: 2, column: 1 },
    ]);
  });

  it('reports the first three YAML syntax errors of a broken document, then how many more followed', () => {
    // One flow map continued at too small an indent: the parser reports two dozen errors, echoes of it.
    const text =
      'static_resources:\n  listeners:\n  - name: a\n    filter_chains: [ { filters: [ { name: x, typed_config: { a: 1,\n' +
      '  b: 2, stat_prefix: c, d: { e: f } } } ] } ]\n  - name: b\n    internal_listener: {}\n  clusters: []\n';
    const issues = issuesOf({ text, name: 'cascade.yaml' });
    expect(issues.length).toBe(4);
    expect(issues.slice(0, 3).every((issue) => issue.message.startsWith('YAML syntax error: '))).toBe(true);
    expect(issues[0]).toMatchObject({ source: 'cascade.yaml', line: 5 });
    expect(issues[3]?.message).toMatch(/^YAML: \d+ more syntax errors? after these, most likely consequences of the first$/);
  });

  it('reads YAML anchors, aliases and merge keys', () => {
    const { bootstrap } = load(yaml`
      static_resources:
        clusters:
        - &base { name: a, connect_timeout: 2s, lb_policy: RANDOM }
        - { <<: *base, name: b }
    `);
    expect(bootstrap.static_resources.clusters.map((c) => [c.name, c.connect_timeout.ms, c.lb_policy])).toEqual([
      ['a', 2000, 'RANDOM'],
      ['b', 2000, 'RANDOM'],
    ]);
  });

  it('allows unknown fields as warnings when asked to', () => {
    const text = 'node: { id: n, colour: blue }\n';
    expect(issuesOf({ text, name: 'u.yaml' })[0]?.message).toBe('unknown field in envoy.config.core.v3.Node');
    const loaded = loadConfig({ text, name: 'u.yaml' }, { allowUnknownFields: true });
    expect(loaded.bootstrap.node.id).toBe('n');
    expect(loaded.warnings).toEqual([{ source: 'u.yaml', path: 'node.colour', message: 'unknown field in envoy.config.core.v3.Node; ignored', line: 1, column: 16 }]);
  });
});

describe('several sources (MergeFrom)', () => {
  const base = yaml`
    node: { id: base-id, cluster: base-cluster, metadata: { a: 1, b: { x: 1 } } }
    admin:
      address: { socket_address: { address: 127.0.0.1, port_value: 9901 } }
    static_resources:
      clusters: [{ name: one, connect_timeout: 1s }]
  `;

  it('replaces scalars, merges messages, appends lists, replaces Struct keys and clears the other oneof members', () => {
    const overlay = yaml`
      node: { id: overlay-id, metadata: { b: { y: 2 } } }
      admin:
        address: { pipe: { path: /tmp/admin.sock } }
      static_resources:
        clusters: [{ name: two }]
    `;
    const { bootstrap } = loadConfig([
      { text: base, name: 'base.yaml' },
      { text: overlay, name: '--config-yaml' },
    ]);
    expect(bootstrap.node).toEqual({ id: 'overlay-id', cluster: 'base-cluster', metadata: { a: 1, b: { y: 2 } } });
    expect(bootstrap.admin?.address).toEqual({ pipe: { path: '/tmp/admin.sock', mode: 0 } });
    expect(bootstrap.static_resources.clusters.map((c) => [c.name, c.connect_timeout.ms])).toEqual([
      ['one', 1000],
      ['two', 5000],
    ]);
  });

  it('matches fields across spellings', () => {
    const { bootstrap } = loadConfig([
      { text: base, name: 'base.yaml' },
      { value: { admin: { address: { socketAddress: { portValue: 9999 } } } }, name: 'overlay' },
    ]);
    expect(bootstrap.admin?.address?.socket_address).toMatchObject({ address: '127.0.0.1', port_value: 9999 });
  });

  it('reports issues in the source and line they come from', () => {
    expect(issuesOf([{ text: base, name: 'base.yaml' }, { text: 'static_resources:\n  clusters: [{ name: two, lb_policy: FAST }]\n', name: '--config-yaml' }])).toEqual([
      {
        source: '--config-yaml',
        path: 'static_resources.clusters[1].lb_policy',
        message: 'unknown value "FAST"; expected one of ROUND_ROBIN, LEAST_REQUEST, RING_HASH, RANDOM, MAGLEV, CLUSTER_PROVIDED, LOAD_BALANCING_POLICY_CONFIG',
        line: 2,
        column: 38,
      },
    ]);
  });

  it('loads a file with --config-yaml over it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'il-config-'));
    const path = join(dir, 'base.yaml');
    writeFileSync(path, base);
    const { bootstrap } = loadConfigFile(path, { overlayYaml: 'node: { id: from-flag }' });
    expect(bootstrap.node.id).toBe('from-flag');
    expect(issuesOf({ text: '', name: 'empty.yaml' })).toEqual([{ source: 'empty.yaml', path: '', message: 'the config is empty', line: 1, column: 1 }]);
    expect(() => loadConfigFile(join(dir, 'missing.yaml'))).toThrow(/cannot read the config file/);
  });
});

describe('dump', () => {
  it.each(files)('round-trips: %s', (file) => {
    const { bootstrap } = loadConfigFile(file);
    const dumped = dump(bootstrap);
    expect(JSON.parse(JSON.stringify(dumped))).toEqual(dumped);
    const again = loadConfig({ value: dumped, name: 'dump' });
    expect(again.bootstrap).toEqual(bootstrap);
    expect(again.warnings).toEqual([]);
  });

  it('writes durations and typed configs the Envoy way', () => {
    const dumped = dump(loadConfigFile(join(ENVOY_CONFIGS, 'terminate_http2_connect.yaml')).bootstrap) as { static_resources: { clusters: { connect_timeout: string }[]; listeners: { filter_chains: { filters: { typed_config: Record<string, unknown> }[] }[] }[] } };
    expect(dumped.static_resources.clusters[0]?.connect_timeout).toBe('0.250s');
    const hcm = dumped.static_resources.listeners[0]?.filter_chains[0]?.filters[0]?.typed_config;
    expect(hcm?.['@type']).toBe('type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager');
    expect(hcm?.stream_idle_timeout).toBe('300s');
  });
});

describe('toJsonSchema', () => {
  const schema = toJsonSchema();

  it('is a 2020-12 schema of the bootstrap', () => {
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.type).toBe('object');
    expect(Object.keys(schema.properties as object)).toEqual(expect.arrayContaining(['static_resources', 'admin', 'bootstrap_extensions', 'node']));
    expect(JSON.parse(JSON.stringify(schema))).toEqual(schema);
  });

  it.each(files)('accepts %s', (file) => {
    expect(schemaErrors(schema, parse(readFileSync(file, 'utf8')))).toEqual([]);
  });

  it('refuses what the loader refuses for its shape', () => {
    expect(schemaErrors(schema, { static_resources: { clusters: [{ name: 'c', lb_policy: 'FAST' }] } })).not.toEqual([]);
    expect(schemaErrors(schema, { admin: { adress: {} } })).not.toEqual([]);
    expect(schemaErrors(schema, { static_resources: { clusters: [{ name: 'c', connect_timeout: 5 }] } })).not.toEqual([]);
  });

  it('says why a refused Envoy field is refused', () => {
    expect((schema.properties as Record<string, unknown>).stats_config).toEqual({
      description: 'Not supported by il: il has no stats sinks or stats tag configuration; read stats from the admin /stats endpoint.',
      not: {},
    });
  });
});

describe('type URLs', () => {
  it('match on the type name after the last "/", as in Envoy', () => {
    const { bootstrap } = load('bootstrap_extensions: [{ name: x, typed_config: { "@type": example.com/envoy.extensions.bootstrap.internal_listener.v3.InternalListener, buffer_size_kb: 64 } }]\n');
    expect(bootstrap.bootstrap_extensions[0]?.typed_config).toEqual({ '@type': 'type.googleapis.com/envoy.extensions.bootstrap.internal_listener.v3.InternalListener', buffer_size_kb: 64 });
  });
});
