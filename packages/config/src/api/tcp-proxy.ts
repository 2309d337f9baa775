/** envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy: plain TCP proxying and TCP-over-HTTP tunneling. */
import * as z from 'zod';
import { accessLog } from './access-log.js';
import { backoffStrategy, hashPolicy, headersToAdd, metadata, percent, tlvEntry } from './core.js';
import { duration, durationOr, message, nonEmptyString, protoEnum, requiredOneof, struct, typedConfig, typedMessage, uint32, unsupported } from '../schema/proto.js';

export const uuidRequestIdConfig = typedMessage('envoy.extensions.request_id.uuid.v3.UuidRequestIdConfig', ['envoy.request_id.uuid'], {
  pack_trace_reason: z.boolean().default(true),
  use_request_id_for_trace_sampling: z.boolean().default(true),
});
export type UuidRequestIdConfig = z.output<typeof uuidRequestIdConfig.schema>;

export const requestIdExtension = message('envoy.extensions.filters.network.http_connection_manager.v3.RequestIDExtension', {
  typed_config: typedConfig('request ID extension', [uuidRequestIdConfig]),
});

/**
 * How TcpProxy tunnels the stream: CONNECT (or POST) over the cluster's HTTP version.
 * `post_path` is filled with Envoy's default "/" when `use_post` is set.
 */
export const tunnelingConfig = message(
  'envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy.TunnelingConfig',
  {
    /** A substitution format string, e.g. `%REQUESTED_SERVER_NAME%:443`; the result is the :authority. */
    hostname: nonEmptyString(),
    use_post: z.boolean().default(false),
    headers_to_add: headersToAdd(1000),
    propagate_response_headers: z.boolean().default(false),
    post_path: z.string().optional(),
    propagate_response_trailers: z.boolean().default(false),
    request_id_extension: requestIdExtension.optional(),
    request_id_header: z.string().default('x-request-id'),
    request_id_metadata_key: z.string().default('tunnel_request_id'),
  },
  {
    rules: (tunneling, report) => {
      if (tunneling.post_path && !tunneling.use_post) report(['post_path'], "Can't set a post path when POST method isn't used");
      else if (tunneling.post_path && !tunneling.post_path.startsWith('/')) report(['post_path'], "Path must start with '/'");
    },
  },
).transform(({ post_path, ...rest }) => (rest.use_post ? { ...rest, post_path: post_path || '/' } : rest));
export type TunnelingConfig = z.output<typeof tunnelingConfig>;

export const tcpProxyWeightedCluster = message('envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy.WeightedCluster', {
  clusters: z
    .array(
      message('envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy.WeightedCluster.ClusterWeight', {
        name: nonEmptyString(),
        weight: uint32({ min: 1 }),
        metadata_match: metadata.optional(),
      }),
    )
    .min(1),
});

const tcpAccessLogOptions = message('envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy.TcpAccessLogOptions', {
  access_log_flush_interval: duration({ min: 1 }).optional(),
  flush_access_log_on_connected: z.boolean().default(false),
});

const tcpProxyMessage = typedMessage(
  'envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy',
  ['envoy.filters.network.tcp_proxy'],
  {
    stat_prefix: nonEmptyString(),
    cluster: nonEmptyString().optional(),
    weighted_clusters: tcpProxyWeightedCluster.optional(),
    on_demand: message('envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy.OnDemand', {
      odcds_config: struct.optional(),
      resources_locator: z.string().default(''),
      timeout: duration().optional(),
    }).optional(),
    metadata_match: metadata.optional(),
    /** Unset → 1 hour; `0s` disables it. */
    idle_timeout: durationOr(3600),
    downstream_idle_timeout: unsupported('Envoy does not implement downstream_idle_timeout; use idle_timeout').optional(),
    upstream_idle_timeout: unsupported('Envoy does not implement upstream_idle_timeout; use idle_timeout').optional(),
    access_log: z.array(accessLog).default([]),
    max_connect_attempts: uint32({ min: 1 }).default(1),
    backoff_options: backoffStrategy.optional(),
    hash_policy: z.array(hashPolicy).max(1).default([]),
    tunneling_config: tunnelingConfig.optional(),
    max_downstream_connection_duration: duration({ min: 1 }).optional(),
    max_downstream_connection_duration_jitter_percentage: percent.optional(),
    /** Deprecated: folded into access_log_options. */
    access_log_flush_interval: duration({ min: 1 }).optional(),
    /** Deprecated: folded into access_log_options. */
    flush_access_log_on_connected: z.boolean().optional(),
    access_log_options: tcpAccessLogOptions.optional(),
    proxy_protocol_tlvs: z.array(tlvEntry).default([]),
    upstream_connect_mode: protoEnum({ IMMEDIATE: 0, ON_DOWNSTREAM_DATA: 1, ON_DOWNSTREAM_TLS_HANDSHAKE: 2 }, ['IMMEDIATE', 'ON_DOWNSTREAM_DATA'], 'il has no TLS').default('IMMEDIATE'),
    max_early_data_bytes: uint32().optional(),
  },
  {
    oneofs: [requiredOneof('cluster', 'weighted_clusters')],
    rules: (proxy, report) => {
      if (proxy.access_log_options) {
        if (proxy.flush_access_log_on_connected) report(['flush_access_log_on_connected'], 'Only one of flush_access_log_on_connected or access_log_options can be specified.');
        if (proxy.access_log_flush_interval) report(['access_log_flush_interval'], 'Only one of access_log_flush_interval or access_log_options can be specified.');
      }
      if (proxy.upstream_connect_mode !== 'IMMEDIATE' && proxy.max_early_data_bytes === undefined) {
        report(['max_early_data_bytes'], 'max_early_data_bytes must be set when upstream_connect_mode is not IMMEDIATE');
      }
    },
  },
);

/**
 * The TcpProxy network filter. The deprecated top-level access-log flush fields are folded into
 * `access_log_options`, which is always present.
 */
export const tcpProxy = {
  ...tcpProxyMessage,
  schema: tcpProxyMessage.schema.transform(({ access_log_flush_interval, flush_access_log_on_connected, access_log_options, ...rest }) => {
    const options: z.output<typeof tcpAccessLogOptions> = access_log_options ?? { flush_access_log_on_connected: flush_access_log_on_connected ?? false };
    if (!access_log_options && access_log_flush_interval) options.access_log_flush_interval = access_log_flush_interval;
    return { ...rest, access_log_options: options };
  }),
};
export type TcpProxy = z.output<typeof tcpProxy.schema>;
