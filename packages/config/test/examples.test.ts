import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Duration, HTTP_PROTOCOL_OPTIONS_KEY, loadConfigFile } from '../src/index.js';
import type { Bootstrap, HttpConnectionManager, TcpProxy } from '../src/index.js';
import { EXAMPLES_DIR } from './helpers.js';

const examples = readdirSync(EXAMPLES_DIR).filter((f) => f.endsWith('.yaml'));

describe('project examples', () => {
  it('are all there', () => {
    expect(examples).toEqual(expect.arrayContaining(['decap.yaml', 'encap.yaml', 'tcp-chain.yaml', 'tunnel.yaml']));
  });

  it.each(examples)('%s loads without issues or warnings', (file) => {
    expect(loadConfigFile(`${EXAMPLES_DIR}/${file}`).warnings).toEqual([]);
  });
});

function filterConfig(b: Bootstrap, listener: string) {
  const config = b.static_resources.listeners.find((l) => l.name === listener)?.filter_chains[0]?.filters[0]?.typed_config;
  if (!config) throw new Error(`no filter on listener ${listener}`);
  return config;
}

function hcm(b: Bootstrap, listener: string): HttpConnectionManager {
  const config = filterConfig(b, listener);
  if (config['@type'] !== 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager') throw new Error('not an HCM');
  return config;
}

function tcpProxy(b: Bootstrap, listener: string): TcpProxy {
  const config = filterConfig(b, listener);
  if (config['@type'] !== 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy') throw new Error('not a TcpProxy');
  return config;
}

describe('tunnel.yaml, in detail', () => {
  const { bootstrap: b } = loadConfigFile(`${EXAMPLES_DIR}/tunnel.yaml`);

  it('has the admin, the extension and the listeners', () => {
    expect(b.admin?.address?.socket_address).toEqual({ protocol: 'TCP', address: '127.0.0.1', port_value: 9901, ipv4_compat: false });
    expect(b.bootstrap_extensions).toEqual([
      { name: 'envoy.bootstrap.internal_listener', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.bootstrap.internal_listener.v3.InternalListener', buffer_size_kb: 1024 } },
    ]);
    expect(b.static_resources.listeners.map((l) => [l.name, l.stat_prefix, l.internal_listener !== undefined])).toEqual([
      ['http', '127.0.0.1_10000', false],
      ['encap', 'envoy_internal_encap', true],
      ['connect', '127.0.0.1_10001', false],
      ['decap', 'envoy_internal_decap', true],
    ]);
    const encap = b.static_resources.listeners[1];
    expect(encap?.address).toBeUndefined();
    expect(encap?.per_connection_buffer_limit_bytes).toBe(1048576);
    expect(encap?.filter_chains[0]?.filter_chain_match).toEqual({
      prefix_ranges: [],
      direct_source_prefix_ranges: [],
      source_type: 'ANY',
      source_prefix_ranges: [],
      source_ports: [],
      server_names: [],
      transport_protocol: '',
      application_protocols: [],
    });
  });

  it('fills the TcpProxy defaults of the encapsulating listener', () => {
    const proxy = tcpProxy(b, 'encap');
    expect(proxy.idle_timeout).toBeInstanceOf(Duration);
    expect(proxy.idle_timeout.ms).toBe(3_600_000);
    expect(proxy).toMatchObject({
      stat_prefix: 'encap',
      cluster: 'tunnel',
      max_connect_attempts: 1,
      access_log: [],
      hash_policy: [],
      upstream_connect_mode: 'IMMEDIATE',
      access_log_options: { flush_access_log_on_connected: false },
    });
    expect(proxy.tunneling_config).toEqual({
      hostname: 'host.com:443',
      use_post: false,
      headers_to_add: [],
      propagate_response_headers: false,
      propagate_response_trailers: false,
      request_id_header: 'x-request-id',
      request_id_metadata_key: 'tunnel_request_id',
    });
    expect(proxy.max_downstream_connection_duration).toBeUndefined();
    expect(proxy.backoff_options).toBeUndefined();
  });

  it('fills the HCM defaults of the CONNECT-terminating listener', () => {
    const connect = hcm(b, 'connect');
    expect(connect.codec_type).toBe('AUTO');
    expect(connect.http2_protocol_options).toMatchObject({ allow_connect: true, max_concurrent_streams: 1024, initial_stream_window_size: 16777216, initial_connection_window_size: 25165824, hpack_table_size: 4096 });
    expect(connect.upgrade_configs).toEqual([{ upgrade_type: 'CONNECT', enabled: true }]);
    expect([connect.stream_idle_timeout.ms, connect.request_timeout.ms, connect.request_headers_timeout.ms, connect.drain_timeout.ms, connect.delayed_close_timeout.ms]).toEqual([300_000, 0, 0, 5000, 1000]);
    expect(connect.common_http_protocol_options).toMatchObject({ max_headers_count: 100, headers_with_underscores_action: 'ALLOW' });
    expect(connect.common_http_protocol_options.idle_timeout.ms).toBe(3_600_000);
    expect(connect).toMatchObject({ max_request_headers_kb: 60, generate_request_id: true, server_name: 'envoy', server_header_transformation: 'OVERWRITE', use_remote_address: false, xff_num_trusted_hops: 0 });
    expect(connect.http_filters).toEqual([
      { name: 'envoy.filters.http.router', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router', dynamic_stats: true, start_child_span: false, suppress_envoy_headers: false } },
    ]);
    const route = connect.route_config?.virtual_hosts[0]?.routes[0];
    expect(route?.match).toEqual({ connect_matcher: {}, case_sensitive: true, headers: [], query_parameters: [] });
    expect(route?.route?.cluster).toBe('decap_cluster');
    expect(route?.route?.timeout.ms).toBe(15_000);
    expect(route?.route?.upgrade_configs).toEqual([{ upgrade_type: 'CONNECT', enabled: true, connect_config: { allow_post: false } }]);
    expect(connect.route_config?.validate_clusters).toBe(true);
  });

  it('keeps the direct response of the decapsulating listener', () => {
    const route = hcm(b, 'decap').route_config?.virtual_hosts[0]?.routes[0];
    expect(route?.direct_response).toEqual({ status: 200, body: { inline_string: 'Hello, world!\n' } });
    expect(route?.route).toBeUndefined();
  });

  it('fills the cluster defaults', () => {
    const [encapCluster, tunnel] = b.static_resources.clusters;
    expect(encapCluster).toMatchObject({ name: 'encap_cluster', type: 'STATIC', lb_policy: 'ROUND_ROBIN', dns_lookup_family: 'V4_PREFERRED', per_connection_buffer_limit_bytes: 1048576 });
    expect(encapCluster?.connect_timeout.ms).toBe(5000);
    expect(encapCluster?.dns_refresh_rate.ms).toBe(5000);
    expect(encapCluster?.load_assignment?.endpoints[0]?.lb_endpoints[0]).toEqual({
      endpoint: { address: { envoy_internal_address: { server_listener_name: 'encap', endpoint_id: '' } }, hostname: '' },
      health_status: 'UNKNOWN',
      load_balancing_weight: 1,
    });
    expect(encapCluster?.circuit_breakers.thresholds).toEqual([
      { priority: 'DEFAULT', max_connections: 1024, max_pending_requests: 1024, max_requests: 1024, max_retries: 3, track_remaining: false },
      { priority: 'HIGH', max_connections: 1024, max_pending_requests: 1024, max_requests: 1024, max_retries: 3, track_remaining: false },
    ]);
    expect(tunnel?.connect_timeout.ms).toBe(1000);
    const options = tunnel?.typed_extension_protocol_options?.[HTTP_PROTOCOL_OPTIONS_KEY];
    expect(options?.explicit_http_config?.http2_protocol_options).toMatchObject({ allow_connect: false, max_concurrent_streams: 1024 });
    expect(encapCluster?.typed_extension_protocol_options).toBeUndefined();
  });
});
