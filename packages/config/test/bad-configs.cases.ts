/** Configs Envoy (or il) refuses, each with the one issue it must report, where. */
import { yaml } from './helpers.js';

export interface BadCase {
  readonly title: string;
  readonly text: string;
  readonly path: string;
  readonly message: string;
  readonly line: number;
  readonly column: number;
}

// Every case starts with these three lines (line 1-3): the internal listener extension.
const EXT = `bootstrap_extensions:
- name: envoy.bootstrap.internal_listener
  typed_config: { "@type": type.googleapis.com/envoy.extensions.bootstrap.internal_listener.v3.InternalListener }`;
const TCP = 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy';
const HCM = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const ROUTER = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router';
const TCP_CHAIN = `[{ filters: [{ name: tcp, typed_config: { "@type": ${TCP}, stat_prefix: s, cluster: c } }] }]`;
const CLUSTER_C = 'clusters: [{ name: c }]';
const UNSUPPORTED_FEATURE = "error adding listener named 'encap': has unsupported tcp listener feature";

/** An internal listener `encap` on line 6 with `field` on line 7. */
function internalWith(field: string): string {
  return `${EXT}
static_resources:
  ${CLUSTER_C}
  listeners:
  - name: encap
    internal_listener: {}
    ${field}
    filter_chains: ${TCP_CHAIN}
`;
}

/** A TCP listener on 127.0.0.1:10000 (line 6) whose TcpProxy config gets `fields` on line 9. */
function tcpProxyWith(fields: string): string {
  return `${EXT}
static_resources:
  ${CLUSTER_C}
  listeners:
  - name: l
    address: { socket_address: { address: 127.0.0.1, port_value: 10000 } }
    filter_chains:
    - filters:
      - { name: tcp, typed_config: { "@type": ${TCP}, stat_prefix: s, ${fields} } }
`;
}

/** An HCM on 127.0.0.1:10000 whose only route (line 13) is `route`, after HCM `fields` on line 9. */
function hcmWith(fields: string, route = '{ match: { prefix: "/" }, route: { cluster: c } }'): string {
  return `${EXT}
static_resources:
  ${CLUSTER_C}
  listeners:
  - name: l
    address: { socket_address: { address: 127.0.0.1, port_value: 10000 } }
    filter_chains:
    - filters:
      - name: hcm
        typed_config:
          "@type": ${HCM}
          stat_prefix: h
          ${fields}
          route_config:
            virtual_hosts:
            - name: v
              domains: ["*"]
              routes:
              - ${route}
          http_filters: [{ name: router, typed_config: { "@type": ${ROUTER} } }]
`;
}

/** A cluster `c` (line 5) with `fields` on line 6, and a listener using it. */
function clusterWith(fields: string): string {
  return `${EXT}
static_resources:
  clusters:
  - name: c
    ${fields}
  listeners:
  - name: l
    address: { socket_address: { address: 127.0.0.1, port_value: 10000 } }
    filter_chains: ${TCP_CHAIN}
`;
}

const LISTENER_0 = 'static_resources.listeners[0]';
const TYPED = `${LISTENER_0}.filter_chains[0].filters[0].typed_config`;
const ROUTE_0 = `${TYPED}.route_config.virtual_hosts[0].routes[0]`;
const CLUSTER_0 = 'static_resources.clusters[0]';

export const BAD_CASES: readonly BadCase[] = [
  // ------------------------------------------------ internal listeners (listener_impl.cc)
  {
    title: 'internal listener with an address',
    text: internalWith('address: { socket_address: { address: 127.0.0.1, port_value: 1 } }'),
    path: `${LISTENER_0}.address`,
    message: "error adding listener 'encap': address should not be used when an internal listener config is provided",
    line: 9,
    column: 14,
  },
  {
    title: 'internal listener with additional addresses',
    text: internalWith('additional_addresses: [{ address: { socket_address: { address: 127.0.0.1, port_value: 1 } } }]'),
    path: `${LISTENER_0}.additional_addresses`,
    message: "error adding listener 'encap': address should not be used when an internal listener config is provided",
    line: 9,
    column: 27,
  },
  { title: 'internal listener with freebind', text: internalWith('freebind: true'), path: `${LISTENER_0}.freebind`, message: UNSUPPORTED_FEATURE, line: 9, column: 15 },
  { title: 'internal listener with enable_reuse_port (any value)', text: internalWith('enable_reuse_port: false'), path: `${LISTENER_0}.enable_reuse_port`, message: UNSUPPORTED_FEATURE, line: 9, column: 24 },
  { title: 'internal listener with tcp_backlog_size', text: internalWith('tcp_backlog_size: 128'), path: `${LISTENER_0}.tcp_backlog_size`, message: UNSUPPORTED_FEATURE, line: 9, column: 23 },
  { title: 'internal listener with tcp_fast_open_queue_length', text: internalWith('tcp_fast_open_queue_length: 5'), path: `${LISTENER_0}.tcp_fast_open_queue_length`, message: UNSUPPORTED_FEATURE, line: 9, column: 33 },
  { title: 'internal listener with transparent', text: internalWith('transparent: true'), path: `${LISTENER_0}.transparent`, message: UNSUPPORTED_FEATURE, line: 9, column: 18 },
  { title: 'internal listener with enable_mptcp', text: internalWith('enable_mptcp: true'), path: `${LISTENER_0}.enable_mptcp`, message: UNSUPPORTED_FEATURE, line: 9, column: 19 },
  { title: 'internal listener with exact_balance', text: internalWith('connection_balance_config: { exact_balance: {} }'), path: `${LISTENER_0}.connection_balance_config`, message: UNSUPPORTED_FEATURE, line: 9, column: 32 },
  {
    title: 'internal listener with socket options',
    text: internalWith('socket_options: [{ level: 1, name: 2, int_value: 1 }]'),
    path: `${LISTENER_0}.socket_options`,
    message: "error adding listener named 'encap': does not support socket option",
    line: 9,
    column: 21,
  },
  {
    title: 'internal listener without the bootstrap extension',
    text: yaml`
      static_resources:
        ${CLUSTER_C}
        listeners:
        - name: encap
          internal_listener: {}
          filter_chains: ${TCP_CHAIN}
    `,
    path: `${LISTENER_0}.internal_listener`,
    message: "error adding listener named 'encap': InternalListener bootstrap extension is mandatory",
    line: 5,
    column: 24,
  },
  {
    title: 'internal address as a listener address',
    text: tcpProxyWith('cluster: c').replace('socket_address: { address: 127.0.0.1, port_value: 10000 }', 'envoy_internal_address: { server_listener_name: x }'),
    path: `${LISTENER_0}.address.envoy_internal_address`,
    message: "error adding listener named 'l': use internal_listener field instead of address for internal listeners",
    line: 8,
    column: 40,
  },
  {
    title: 'TCP listener without filter chains',
    text: yaml`
      static_resources:
        listeners:
        - name: l
          address: { socket_address: { address: 127.0.0.1, port_value: 10000 } }
    `,
    path: `${LISTENER_0}.filter_chains`,
    message: "error adding listener '127.0.0.1:10000': no filter chains specified",
    line: 3,
    column: 5,
  },
  {
    title: 'listener with neither address nor internal_listener',
    text: yaml`
      static_resources:
        ${CLUSTER_C}
        listeners:
        - name: nowhere
          filter_chains: ${TCP_CHAIN}
    `,
    path: LISTENER_0,
    message: "error adding listener named 'nowhere': address is necessary",
    line: 4,
    column: 5,
  },
  {
    title: 'listener address that is a host name',
    text: tcpProxyWith('cluster: c').replace('address: 127.0.0.1', 'address: localhost'),
    path: `${LISTENER_0}.address.socket_address.address`,
    message: 'malformed IP address: localhost',
    line: 8,
    column: 43,
  },
  {
    title: 'terminal network filter that is not last',
    text: tcpProxyWith('cluster: c').replace('    - filters:\n', `    - filters:\n      - { name: first, typed_config: { "@type": ${TCP}, stat_prefix: a, cluster: c } }\n`),
    path: `${LISTENER_0}.filter_chains[0].filters[0]`,
    message: 'Error: terminal filter named first of type envoy.filters.network.tcp_proxy must be the last filter in a network filter chain.',
    line: 11,
    column: 9,
  },
  {
    title: 'two filter chains with the same match',
    text: tcpProxyWith('cluster: c').replace('    - filters:\n', `    - { name: a, filter_chain_match: { destination_port: 80 }, filters: [] }\n    - name: b\n      filter_chain_match: { destination_port: 80 }\n      filters:\n`),
    path: `${LISTENER_0}.filter_chains[1].filter_chain_match`,
    message: `error adding listener '127.0.0.1:10000': filter chain 'b' has the same matching rules defined as 'a'. duplicate matcher is: {"destination_port":80}`,
    line: 12,
    column: 27,
  },
  {
    title: 'a listener filter il does not implement',
    text: tcpProxyWith('cluster: c').replace('    filter_chains:\n', '    listener_filters: [{ name: tls, typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.listener.original_dst.v3.OriginalDst } }]\n    filter_chains:\n'),
    path: `${LISTENER_0}.listener_filters[0].typed_config["@type"]`,
    message: 'unsupported listener filter type "type.googleapis.com/envoy.extensions.filters.listener.original_dst.v3.OriginalDst"; supported: type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector',
    line: 9,
    column: 62,
  },
  {
    title: 'UDP socket address',
    text: tcpProxyWith('cluster: c').replace('address: 127.0.0.1,', 'protocol: UDP, address: 127.0.0.1,'),
    path: `${LISTENER_0}.address.socket_address.protocol`,
    message: 'UDP is not supported (il is TCP-only); supported: TCP',
    line: 8,
    column: 44,
  },
  {
    title: 'port out of range',
    text: tcpProxyWith('cluster: c').replace('port_value: 10000', 'port_value: 65536'),
    path: `${LISTENER_0}.address.socket_address.port_value`,
    message: 'value must be less than or equal to 65535',
    line: 8,
    column: 66,
  },
  {
    title: 'address with no member set',
    text: tcpProxyWith('cluster: c').replace('{ socket_address: { address: 127.0.0.1, port_value: 10000 } }', '{}'),
    path: `${LISTENER_0}.address`,
    message: 'exactly one of socket_address, pipe, envoy_internal_address must be set',
    line: 8,
    column: 14,
  },
  {
    title: 'one field in both spellings',
    text: tcpProxyWith('cluster: c').replace('port_value: 10000', 'port_value: 10000, portValue: 10001'),
    path: `${LISTENER_0}.address.socket_address.port_value`,
    message: '"port_value" is given twice (as "port_value" and "portValue"); use one spelling',
    line: 8,
    column: 73,
  },
  {
    title: 'unknown field, with a suggestion',
    text: tcpProxyWith('cluster: c').replace('    filter_chains:', '    stat_prefx: l\n    filter_chains:'),
    path: `${LISTENER_0}.stat_prefx`,
    message: 'unknown field in envoy.config.listener.v3.Listener (did you mean "stat_prefix"?)',
    line: 9,
    column: 5,
  },

  // ------------------------------------------------ names and references across the bootstrap
  {
    title: 'two listeners with one name',
    text: tcpProxyWith('cluster: c').concat('  - name: l\n    address: { socket_address: { address: 127.0.0.1, port_value: 10001 } }\n', `    filter_chains: ${TCP_CHAIN}\n`),
    path: 'static_resources.listeners[1].name',
    message: "error adding listener named 'l': the name is already used by static_resources.listeners[0]",
    line: 12,
    column: 11,
  },
  {
    title: 'two listeners on one address',
    text: tcpProxyWith('cluster: c').concat('  - name: m\n    address: { socket_address: { address: 127.0.0.1, port_value: 10000 } }\n', `    filter_chains: ${TCP_CHAIN}\n`),
    path: 'static_resources.listeners[1].address',
    message:
      "error adding listener: 'm' has duplicate address '127.0.0.1:10000' as existing listener, to check if the listener has duplicated addresses with other listeners or 'enable_reuse_port' is set to 'false' for the listener",
    line: 13,
    column: 14,
  },
  {
    title: 'two clusters with one name',
    text: tcpProxyWith('cluster: c').replace(CLUSTER_C, 'clusters: [{ name: c }, { name: c }]'),
    path: 'static_resources.clusters[1].name',
    message: "cluster manager: duplicate cluster 'c'",
    line: 5,
    column: 35,
  },
  { title: 'TcpProxy cluster that does not exist', text: tcpProxyWith('cluster: nope'), path: `${TYPED}.cluster`, message: "tcp_proxy: unknown cluster 'nope'", line: 11, column: 148 },
  {
    title: 'TcpProxy weighted cluster that does not exist',
    text: tcpProxyWith('weighted_clusters: { clusters: [{ name: c, weight: 1 }, { name: gone, weight: 1 }] }'),
    path: `${TYPED}.weighted_clusters.clusters[1].name`,
    message: "tcp_proxy: unknown weighted cluster 'gone'",
    line: 11,
    column: 203,
  },
  {
    title: 'route cluster that does not exist',
    text: hcmWith('codec_type: AUTO', '{ match: { prefix: "/" }, route: { cluster: nope } }'),
    path: `${ROUTE_0}.route.cluster`,
    message: "route: unknown cluster 'nope'",
    line: 21,
    column: 61,
  },
  {
    title: 'route weighted cluster that does not exist',
    text: hcmWith('codec_type: AUTO', '{ match: { prefix: "/" }, route: { weighted_clusters: { clusters: [{ name: gone, weight: 1 }] } } }'),
    path: `${ROUTE_0}.route.weighted_clusters.clusters[0].name`,
    message: "route: unknown weighted cluster 'gone'",
    line: 21,
    column: 92,
  },
  {
    title: 'internal address naming no listener',
    text: clusterWith('load_assignment: { cluster_name: c, endpoints: [{ lb_endpoints: [{ endpoint: { address: { envoy_internal_address: { server_listener_name: ghost } } } }] }] }'),
    path: `${CLUSTER_0}.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.envoy_internal_address.server_listener_name`,
    message: "no internal listener named 'ghost': server_listener_name must name a listener that has internal_listener set",
    line: 7,
    column: 143,
  },
  {
    title: 'internal address naming a TCP listener',
    text: clusterWith('load_assignment: { cluster_name: c, endpoints: [{ lb_endpoints: [{ endpoint: { address: { envoy_internal_address: { server_listener_name: l } } } }] }] }'),
    path: `${CLUSTER_0}.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.envoy_internal_address.server_listener_name`,
    message: "listener 'l' is not an internal listener: give it internal_listener: {} instead of an address",
    line: 7,
    column: 143,
  },

  // ------------------------------------------------ TcpProxy (tcp_proxy.cc and its proto rules)
  { title: 'TcpProxy without a cluster', text: tcpProxyWith('idle_timeout: 1s'), path: TYPED, message: 'exactly one of cluster, weighted_clusters must be set', line: 11, column: 36 },
  {
    title: 'TcpProxy with cluster and weighted_clusters',
    text: tcpProxyWith('cluster: c, weighted_clusters: { clusters: [{ name: c, weight: 1 }] }'),
    path: `${TYPED}.weighted_clusters`,
    message: 'only one of cluster, weighted_clusters may be set; cluster and weighted_clusters are set',
    line: 11,
    column: 151,
  },
  {
    title: 'post_path without use_post',
    text: tcpProxyWith('cluster: c, tunneling_config: { hostname: h:443, post_path: /tunnel }'),
    path: `${TYPED}.tunneling_config.post_path`,
    message: "Can't set a post path when POST method isn't used",
    line: 11,
    column: 199,
  },
  {
    title: 'post_path without a leading slash',
    text: tcpProxyWith('cluster: c, tunneling_config: { hostname: h:443, use_post: true, post_path: tunnel }'),
    path: `${TYPED}.tunneling_config.post_path`,
    message: "Path must start with '/'",
    line: 11,
    column: 215,
  },
  {
    title: 'backoff max below base',
    text: tcpProxyWith('cluster: c, backoff_options: { base_interval: 1s, max_interval: 0.5s }'),
    path: `${TYPED}.backoff_options.max_interval`,
    message: 'max_backoff_interval must be greater or equal to base_backoff_interval',
    line: 11,
    column: 203,
  },
  {
    title: 'delayed connect without max_early_data_bytes',
    text: tcpProxyWith('cluster: c, upstream_connect_mode: ON_DOWNSTREAM_DATA'),
    path: `${TYPED}.max_early_data_bytes`,
    message: 'max_early_data_bytes must be set when upstream_connect_mode is not IMMEDIATE',
    line: 11,
    column: 36,
  },
  {
    title: 'deprecated flush_access_log_on_connected with access_log_options',
    text: tcpProxyWith('cluster: c, flush_access_log_on_connected: true, access_log_options: {}'),
    path: `${TYPED}.flush_access_log_on_connected`,
    message: 'Only one of flush_access_log_on_connected or access_log_options can be specified.',
    line: 11,
    column: 182,
  },
  {
    title: 'deprecated access_log_flush_interval with access_log_options',
    text: tcpProxyWith('cluster: c, access_log_flush_interval: 1s, access_log_options: {}'),
    path: `${TYPED}.access_log_flush_interval`,
    message: 'Only one of access_log_flush_interval or access_log_options can be specified.',
    line: 11,
    column: 178,
  },
  { title: 'max_connect_attempts of 0', text: tcpProxyWith('cluster: c, max_connect_attempts: 0'), path: `${TYPED}.max_connect_attempts`, message: 'value must be greater than or equal to 1', line: 11, column: 173 },
  { title: 'negative duration', text: tcpProxyWith('cluster: c, idle_timeout: -1s'), path: `${TYPED}.idle_timeout`, message: 'duration must not be negative, got "-1s"', line: 11, column: 165 },
  { title: 'duration written as a number', text: tcpProxyWith('cluster: c, idle_timeout: 5'), path: `${TYPED}.idle_timeout`, message: 'expected a duration such as "5s" or "0.25s"', line: 11, column: 165 },
  {
    title: 'duration without its unit',
    text: tcpProxyWith('cluster: c, idle_timeout: 5 minutes'),
    path: `${TYPED}.idle_timeout`,
    message: 'invalid duration "5 minutes": expected seconds with an "s" suffix, e.g. "5s" or "0.25s"',
    line: 11,
    column: 165,
  },
  {
    title: 'max_downstream_connection_duration below 1 ms',
    text: tcpProxyWith('cluster: c, max_downstream_connection_duration: 0.0001s'),
    path: `${TYPED}.max_downstream_connection_duration`,
    message: 'duration must be at least 0.001s, got 0.000100s',
    line: 11,
    column: 187,
  },
  { title: 'wrong type', text: tcpProxyWith('cluster: c, stat_prefix: 123').replace('stat_prefix: s, ', ''), path: `${TYPED}.stat_prefix`, message: 'expected a string, got the integer 123', line: 11, column: 148 },
  { title: 'empty required string', text: tcpProxyWith('cluster: c').replace('stat_prefix: s', 'stat_prefix: ""'), path: `${TYPED}.stat_prefix`, message: 'value must not be empty', line: 11, column: 136 },

  // ------------------------------------------------ typed configs
  {
    title: 'network filter of an unknown type',
    text: tcpProxyWith('cluster: c').replace(TCP, 'type.googleapis.com/envoy.extensions.filters.network.echo.v3.Echo'),
    path: `${TYPED}["@type"]`,
    message: `unsupported network filter type "type.googleapis.com/envoy.extensions.filters.network.echo.v3.Echo"; supported: ${TCP}, ${HCM}`,
    line: 11,
    column: 47,
  },
  {
    title: 'typed_config without @type',
    text: tcpProxyWith('cluster: c').replace(`"@type": ${TCP}, `, ''),
    path: `${TYPED}["@type"]`,
    message: `"@type" is required; supported network filter types: ${TCP}, ${HCM}`,
    line: 11,
    column: 36,
  },
  {
    title: 'filter with neither typed_config nor a known name',
    text: tcpProxyWith('cluster: c').replace(/\{ name: tcp, typed_config: .*\n/, '{ name: envoy.filters.network.echo }\n'),
    path: TYPED,
    message: "typed_config is required: 'envoy.filters.network.echo' is not the name of a network filter il knows (known: envoy.filters.network.tcp_proxy, envoy.filters.network.http_connection_manager)",
    line: 11,
    column: 9,
  },
  {
    title: 'InternalListener buffer above 8192 KiB',
    text: tcpProxyWith('cluster: c').replace('InternalListener }', 'InternalListener, buffer_size_kb: 9000 }'),
    path: 'bootstrap_extensions[0].typed_config.buffer_size_kb',
    message: 'value must be less than or equal to 8192',
    line: 3,
    column: 130,
  },
  {
    title: 'internal_upstream passthrough of request metadata',
    text: clusterWith(`transport_socket: { name: iu, typed_config: { "@type": type.googleapis.com/envoy.extensions.transport_sockets.internal_upstream.v3.InternalUpstreamTransport, passthrough_metadata: [{ name: ns, kind: { request: {} } }], transport_socket: { name: raw, typed_config: { "@type": type.googleapis.com/envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer } } } }`),
    path: `${CLUSTER_0}.transport_socket.typed_config.passthrough_metadata[0].kind.request`,
    message: 'metadata type is not supported: request',
    line: 7,
    column: 215,
  },

  // ------------------------------------------------ HTTP connection manager and routes
  {
    title: 'router that is not the last HTTP filter',
    text: hcmWith('codec_type: AUTO').replace('http_filters: [', `http_filters: [{ name: first, typed_config: { "@type": ${ROUTER} } }, `),
    path: `${TYPED}.http_filters[0]`,
    message: 'Error: terminal filter named first of type envoy.filters.http.router must be the last filter in a http filter chain.',
    line: 22,
    column: 26,
  },
  {
    title: 'no HTTP filters',
    text: hcmWith('codec_type: AUTO').replace(/http_filters: .*\n/, 'http_filters: []\n'),
    path: `${TYPED}.http_filters`,
    message: 'the HTTP filter chain is empty: it must end with envoy.filters.http.router',
    line: 22,
    column: 25,
  },
  { title: 'HTTP/3 codec', text: hcmWith('codec_type: HTTP3'), path: `${TYPED}.codec_type`, message: 'HTTP3 is not supported (HTTP/3 is not implemented); supported: AUTO, HTTP1, HTTP2', line: 15, column: 23 },
  {
    title: 'RDS',
    text: hcmWith('rds: { route_config_name: r }').replace(/ {10}route_config:[\s\S]*?(?= {10}http_filters)/, ''),
    path: `${TYPED}.rds`,
    message: 'not supported: il reads static config only (no xDS); give route_config inline',
    line: 15,
    column: 16,
  },
  {
    title: 'HTTP/2 window below the protocol minimum',
    text: hcmWith('http2_protocol_options: { initial_stream_window_size: 100 }'),
    path: `${TYPED}.http2_protocol_options.initial_stream_window_size`,
    message: 'value must be greater than or equal to 65535',
    line: 15,
    column: 65,
  },
  { title: 'max_request_headers_kb of 0', text: hcmWith('max_request_headers_kb: 0'), path: `${TYPED}.max_request_headers_kb`, message: 'value must be greater than or equal to 1', line: 15, column: 35 },
  {
    title: 'virtual host without domains',
    text: hcmWith('codec_type: AUTO').replace('domains: ["*"]', 'domains: []'),
    path: `${TYPED}.route_config.virtual_hosts[0].domains`,
    message: 'value must contain at least 1 item(s)',
    line: 19,
    column: 24,
  },
  {
    title: 'regex that does not compile',
    text: hcmWith('codec_type: AUTO', '{ match: { safe_regex: { regex: "a(b" } }, route: { cluster: c } }'),
    path: `${ROUTE_0}.match.safe_regex.regex`,
    message: 'invalid regex "a(b": error parsing regexp: missing closing ): `a(b`',
    line: 21,
    column: 49,
  },
  {
    title: 'regex with a lookbehind (RE2 has none)',
    text: hcmWith('codec_type: AUTO', '{ match: { safe_regex: { regex: "(?<=a)b" } }, route: { cluster: c } }'),
    path: `${ROUTE_0}.match.safe_regex.regex`,
    message: 'invalid regex "(?<=a)b": error parsing regexp: invalid named capture: `(?<=a)b`',
    line: 21,
    column: 49,
  },
  {
    title: 'regex with a backreference (RE2 has none)',
    text: hcmWith('codec_type: AUTO', '{ match: { safe_regex: { regex: "/(a)\\\\1" } }, route: { cluster: c } }'),
    path: `${ROUTE_0}.match.safe_regex.regex`,
    message: 'invalid regex "/(a)\\\\1": error parsing regexp: invalid escape sequence: `\\1`',
    line: 21,
    column: 49,
  },
  {
    title: 'route with two path specifiers',
    text: hcmWith('codec_type: AUTO', '{ match: { prefix: "/", path: "/x" }, route: { cluster: c } }'),
    path: `${ROUTE_0}.match.path`,
    message: 'only one of prefix, path, safe_regex, connect_matcher, path_separated_prefix, path_match_policy may be set; prefix and path are set',
    line: 21,
    column: 41,
  },
  {
    title: 'direct response status above 599',
    text: hcmWith('codec_type: AUTO', '{ match: { prefix: "/" }, direct_response: { status: 600 } }'),
    path: `${ROUTE_0}.direct_response.status`,
    message: 'value must be less than or equal to 599',
    line: 21,
    column: 70,
  },
  {
    title: 'connect_config on a non-CONNECT upgrade',
    text: hcmWith('codec_type: AUTO', '{ match: { prefix: "/" }, route: { cluster: c, upgrade_configs: [{ upgrade_type: websocket, connect_config: {} }] } }'),
    path: `${ROUTE_0}.route.upgrade_configs[0].connect_config`,
    message: 'Non-CONNECT upgrade type websocket has ConnectConfig',
    line: 21,
    column: 125,
  },
  {
    title: 'header to add with both append and append_action',
    text: hcmWith('codec_type: AUTO', '{ match: { prefix: "/" }, route: { cluster: c }, request_headers_to_add: [{ header: { key: x, value: y }, append: true, append_action: ADD_IF_ABSENT }] }'),
    path: `${ROUTE_0}.request_headers_to_add[0].append`,
    message: "Both append and append_action are set and it's not allowed",
    line: 21,
    column: 131,
  },

  // ------------------------------------------------ clusters
  { title: 'cluster type EDS', text: clusterWith('type: EDS'), path: `${CLUSTER_0}.type`, message: 'EDS is not supported (il reads static config only); supported: STATIC, STRICT_DNS, LOGICAL_DNS', line: 7, column: 11 },
  { title: 'lb_policy MAGLEV', text: clusterWith('lb_policy: MAGLEV'), path: `${CLUSTER_0}.lb_policy`, message: 'MAGLEV is not supported (it is not implemented); supported: ROUND_ROBIN, LEAST_REQUEST, RANDOM', line: 7, column: 16 },
  {
    title: 'unknown lb_policy',
    text: clusterWith('lb_policy: FASTEST'),
    path: `${CLUSTER_0}.lb_policy`,
    message: 'unknown value "FASTEST"; expected one of ROUND_ROBIN, LEAST_REQUEST, RING_HASH, RANDOM, MAGLEV, CLUSTER_PROVIDED, LOAD_BALANCING_POLICY_CONFIG',
    line: 7,
    column: 16,
  },
  { title: 'zero connect_timeout', text: clusterWith('connect_timeout: 0s'), path: `${CLUSTER_0}.connect_timeout`, message: 'duration must be greater than 0s', line: 7, column: 22 },
  {
    title: 'STATIC cluster with a host name',
    text: clusterWith('load_assignment: { cluster_name: c, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: example.com, port_value: 80 } } } }] }] }'),
    path: `${CLUSTER_0}.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.address`,
    message: "malformed IP address: example.com. Consider setting resolver_name or setting cluster type to 'STRICT_DNS' or 'LOGICAL_DNS'",
    line: 7,
    column: 122,
  },
  {
    title: 'LOGICAL_DNS cluster with two hosts',
    text: clusterWith(
      'type: LOGICAL_DNS\n    load_assignment: { cluster_name: c, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: a.test, port_value: 80 } } } }, { endpoint: { address: { socket_address: { address: b.test, port_value: 80 } } } }] }] }',
    ),
    path: `${CLUSTER_0}.load_assignment`,
    message: 'LOGICAL_DNS clusters must have a single locality_lb_endpoint and a single lb_endpoint',
    line: 8,
    column: 22,
  },
  {
    title: 'unknown protocol options key',
    text: clusterWith('typed_extension_protocol_options: { envoy.extensions.upstreams.tcp.v3.TcpProtocolOptions: {} }'),
    path: `${CLUSTER_0}.typed_extension_protocol_options["envoy.extensions.upstreams.tcp.v3.TcpProtocolOptions"]`,
    message: 'unknown key; expected envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
    line: 7,
    column: 41,
  },
  {
    title: 'HTTP/3 upstream',
    text: clusterWith(
      'typed_extension_protocol_options: { envoy.extensions.upstreams.http.v3.HttpProtocolOptions: { "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions, explicit_http_config: { http3_protocol_options: {} } } }',
    ),
    path: `${CLUSTER_0}.typed_extension_protocol_options["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"].explicit_http_config.http3_protocol_options`,
    message: 'not supported: HTTP/3 is not implemented',
    line: 7,
    column: 232,
  },
  {
    title: 'circuit breaker threshold of a negative number',
    text: clusterWith('circuit_breakers: { thresholds: [{ max_connections: -1 }] }'),
    path: `${CLUSTER_0}.circuit_breakers.thresholds[0].max_connections`,
    message: 'value must be greater than or equal to 0',
    line: 7,
    column: 57,
  },

  // ------------------------------------------------ bootstrap
  {
    title: 'stats_config',
    text: tcpProxyWith('cluster: c').concat('stats_config: { use_all_default_tags: false }\n'),
    path: 'stats_config',
    message: 'not supported: il has no stats sinks or stats tag configuration; read stats from the admin /stats endpoint',
    line: 12,
    column: 15,
  },
];
