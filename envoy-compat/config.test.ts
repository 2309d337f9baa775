/**
 * Envoy's own example configs (../shared/envoy-configs, or IL_ENVOY_CONFIGS) must load unmodified,
 * with no issues, and mean what they mean to Envoy.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, HTTP_PROTOCOL_OPTIONS_KEY, loadConfigFile } from '@il/config';
import type { Bootstrap, LoadedConfig } from '@il/config';
import { ENVOY_CONFIGS, envoyConfigFiles } from '../test-support/envoy-configs.js';

const CONFIGS = ENVOY_CONFIGS;
const configFiles = envoyConfigFiles;

const files = configFiles();

function load(file: string): LoadedConfig {
  try {
    return loadConfigFile(join(CONFIGS, file));
  } catch (error) {
    if (error instanceof ConfigError) throw new Error(`${file} was refused:\n${error.message}`);
    throw error;
  }
}

function firstFilter(b: Bootstrap, listener = 0) {
  const config = b.static_resources.listeners[listener]?.filter_chains[0]?.filters[0]?.typed_config;
  if (!config) throw new Error('no network filter');
  return config;
}

describe(`Envoy's example configs (${CONFIGS})`, () => {
  it('are there', () => {
    expect(files.length).toBeGreaterThan(0);
  });

  it.each(files)('%s loads with no issues', (file) => {
    const { bootstrap } = load(file);
    expect(bootstrap.static_resources.listeners.length).toBeGreaterThan(0);
  });
});

describe('what they mean', () => {
  const has = (file: string) => files.includes(file);

  it.runIf(has('terminate_http2_connect.yaml'))('terminate_http2_connect.yaml: the router is found by its name, with a warning; 0.25s is 250 ms', () => {
    const { bootstrap, warnings } = load('terminate_http2_connect.yaml');
    const hcm = firstFilter(bootstrap);
    if (!('http_filters' in hcm)) throw new Error('expected an HTTP connection manager');
    expect(hcm.http_filters).toEqual([
      { name: 'envoy.filters.http.router', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router', dynamic_stats: true, start_child_span: false, suppress_envoy_headers: false } },
    ]);
    expect(warnings).toEqual([
      expect.objectContaining({
        path: 'static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters[0].typed_config',
        message: expect.stringContaining("found by the HTTP filter name 'envoy.filters.http.router'") as unknown,
        line: 41,
        column: 19,
      }),
    ]);
    const cluster = bootstrap.static_resources.clusters[0];
    expect(cluster?.connect_timeout.ms).toBe(250);
    expect(cluster).toMatchObject({ name: 'service_google', type: 'LOGICAL_DNS', dns_lookup_family: 'V4_ONLY', lb_policy: 'ROUND_ROBIN' });
    expect(hcm.http2_protocol_options.allow_connect).toBe(true);
    expect(hcm.upgrade_configs).toEqual([{ upgrade_type: 'CONNECT', enabled: true }]);
  });

  it.runIf(has('encapsulate_in_http2_connect.yaml'))('encapsulate_in_http2_connect.yaml: cluster_0 tunnels over HTTP/2', () => {
    const { bootstrap } = load('encapsulate_in_http2_connect.yaml');
    const cluster = bootstrap.static_resources.clusters.find((c) => c.name === 'cluster_0');
    const http2 = cluster?.typed_extension_protocol_options?.[HTTP_PROTOCOL_OPTIONS_KEY]?.explicit_http_config?.http2_protocol_options;
    expect(http2).toMatchObject({ max_concurrent_streams: 1024, initial_stream_window_size: 16777216, allow_connect: false });
    const proxy = firstFilter(bootstrap);
    if (!('tunneling_config' in proxy)) throw new Error('expected a TcpProxy');
    expect(proxy.tunneling_config).toMatchObject({ hostname: 'host.com:443', use_post: false });
  });

  it.runIf(has('encapsulate_in_http1_connect.yaml'))('encapsulate_in_http1_connect.yaml: the deprecated http_protocol_options mean HTTP/1.1', () => {
    const { bootstrap, warnings } = load('encapsulate_in_http1_connect.yaml');
    const options = bootstrap.static_resources.clusters[0]?.typed_extension_protocol_options?.[HTTP_PROTOCOL_OPTIONS_KEY];
    expect(options?.explicit_http_config?.http_protocol_options).toBeDefined();
    expect(options?.explicit_http_config?.http2_protocol_options).toBeUndefined();
    expect(warnings.map((w) => w.path)).toEqual(['admin.access_log_path', 'static_resources.clusters[0].http_protocol_options']);
  });

  it.runIf(has('encapsulate_in_http2_post.yaml'))('encapsulate_in_http2_post.yaml: POST to "/"', () => {
    const proxy = firstFilter(load('encapsulate_in_http2_post.yaml').bootstrap);
    if (!('tunneling_config' in proxy)) throw new Error('expected a TcpProxy');
    expect(proxy.tunneling_config).toMatchObject({ use_post: true, post_path: '/' });
  });

  it.runIf(has('internal_listener_proxy.yaml'))('internal_listener_proxy.yaml: encap is internal and reached by name', () => {
    const { bootstrap } = load('internal_listener_proxy.yaml');
    const encap = bootstrap.static_resources.listeners.find((l) => l.name === 'encap');
    expect(encap?.internal_listener).toEqual({});
    expect(encap?.stat_prefix).toBe('envoy_internal_encap');
    expect(bootstrap.bootstrap_extensions[0]?.typed_config.buffer_size_kb).toBe(1024);
    const endpoint = bootstrap.static_resources.clusters[0]?.load_assignment?.endpoints[0]?.lb_endpoints[0]?.endpoint;
    expect(endpoint?.address.envoy_internal_address).toEqual({ server_listener_name: 'encap', endpoint_id: '' });
  });

  it.runIf(has('proxy_connect.yaml'))('proxy_connect.yaml: CONNECT is terminated on the route', () => {
    const hcm = firstFilter(load('proxy_connect.yaml').bootstrap);
    if (!('route_config' in hcm)) throw new Error('expected an HTTP connection manager');
    const route = hcm.route_config?.virtual_hosts[0]?.routes[0];
    expect(route?.match.connect_matcher).toEqual({});
    expect(route?.route?.upgrade_configs[0]).toEqual({ upgrade_type: 'CONNECT', enabled: true, connect_config: { allow_post: false } });
  });
});
