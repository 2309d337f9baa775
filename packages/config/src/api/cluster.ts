/** envoy.config.cluster.v3.Cluster and envoy.config.endpoint.v3: upstreams and their hosts. */
import { isIP } from 'node:net';
import * as z from 'zod';
import { address, bindConfig, locality, metadata } from './core.js';
import { commonHttpProtocolOptions, http1ProtocolOptions, http2ProtocolOptions, http3Refused } from './protocol.js';
import type { CommonHttpProtocolOptions, Http1ProtocolOptions, Http2ProtocolOptions } from './protocol.js';
import { clusterTransportSocket, transportSocketMatch } from './transport-socket.js';
import { HTTP_PROTOCOL_OPTIONS_KEY } from '../constants.js';
import { duration, durationOr, message, nonEmptyString, oneof, protoEnum, requiredOneof, typedMessage, typedConfig, uint32, unsupported } from '../schema/proto.js';
import type { Report } from '../schema/proto.js';

// ---------------------------------------------------------------- endpoints

export const endpoint = message('envoy.config.endpoint.v3.Endpoint', {
  address,
  hostname: z.string().default(''),
});

export const lbEndpoint = message(
  'envoy.config.endpoint.v3.LbEndpoint',
  {
    endpoint: endpoint.optional(),
    endpoint_name: unsupported('named endpoints are not implemented').optional(),
    health_status: protoEnum({ UNKNOWN: 0, HEALTHY: 1, UNHEALTHY: 2, DRAINING: 3, TIMEOUT: 4, DEGRADED: 5 }).default('UNKNOWN'),
    metadata: metadata.optional(),
    load_balancing_weight: uint32({ min: 1 }).default(1),
  },
  { oneofs: [requiredOneof('endpoint', 'endpoint_name')] },
);
export type LbEndpoint = z.output<typeof lbEndpoint>;

export const localityLbEndpoints = message('envoy.config.endpoint.v3.LocalityLbEndpoints', {
  locality: locality.optional(),
  lb_endpoints: z.array(lbEndpoint).default([]),
  load_balancing_weight: uint32({ min: 1 }).optional(),
  priority: uint32({ max: 128 }).default(0),
});
export type LocalityLbEndpoints = z.output<typeof localityLbEndpoints>;

export const clusterLoadAssignment = message('envoy.config.endpoint.v3.ClusterLoadAssignment', {
  cluster_name: nonEmptyString(),
  endpoints: z.array(localityLbEndpoints).default([]),
});
export type ClusterLoadAssignment = z.output<typeof clusterLoadAssignment>;

// ---------------------------------------------------------------- upstream HTTP protocol options

const upstreamProtocols = (what: string) =>
  message(`envoy.extensions.upstreams.http.v3.HttpProtocolOptions.${what}`, {
    http_protocol_options: http1ProtocolOptions.optional(),
    http2_protocol_options: http2ProtocolOptions.optional(),
    http3_protocol_options: http3Refused(),
  });

export const upstreamHttpProtocolOptions = typedMessage(
  'envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
  [],
  {
    common_http_protocol_options: commonHttpProtocolOptions.optional(),
    upstream_http_protocol_options: message('envoy.config.core.v3.UpstreamHttpProtocolOptions', {
      auto_sni: z.boolean().default(false),
      auto_san_validation: z.boolean().default(false),
      override_auto_sni_header: z.string().default(''),
    }).optional(),
    explicit_http_config: message(
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions.ExplicitHttpConfig',
      {
        http_protocol_options: http1ProtocolOptions.optional(),
        http2_protocol_options: http2ProtocolOptions.optional(),
        http3_protocol_options: http3Refused(),
      },
      { oneofs: [requiredOneof('http_protocol_options', 'http2_protocol_options', 'http3_protocol_options')] },
    ).optional(),
    use_downstream_protocol_config: upstreamProtocols('UseDownstreamHttpConfig').optional(),
    auto_config: upstreamProtocols('AutoHttpConfig').optional(),
    http_filters: unsupported('upstream HTTP filters are not implemented').optional(),
  },
  { oneofs: [requiredOneof('explicit_http_config', 'use_downstream_protocol_config', 'auto_config')] },
);
export type UpstreamHttpProtocolOptions = z.output<typeof upstreamHttpProtocolOptions.schema>;

export { HTTP_PROTOCOL_OPTIONS_KEY } from '../constants.js';

// ---------------------------------------------------------------- circuit breakers

const priority = protoEnum({ DEFAULT: 0, HIGH: 1 });

export const thresholds = message('envoy.config.cluster.v3.CircuitBreakers.Thresholds', {
  priority: priority.default('DEFAULT'),
  max_connections: uint32().default(1024),
  max_pending_requests: uint32().default(1024),
  max_requests: uint32().default(1024),
  max_retries: uint32().default(3),
  track_remaining: z.boolean().default(false),
  max_connection_pools: uint32().optional(),
});
export type Thresholds = z.output<typeof thresholds>;

/**
 * Thresholds for both priorities are always present: the configured ones (the last one wins for a
 * priority given twice, as in Envoy) and Envoy's defaults for the others.
 */
export const circuitBreakers = message('envoy.config.cluster.v3.CircuitBreakers', {
  thresholds: z.array(thresholds).default([]),
}).transform(({ thresholds: given }) => ({
  thresholds: (['DEFAULT', 'HIGH'] as const).map((p) => given.findLast((t) => t.priority === p) ?? thresholds.parse({ priority: p })),
}));
export type CircuitBreakers = z.output<typeof circuitBreakers>;

// ---------------------------------------------------------------- cluster

const clusterShape = {
  name: nonEmptyString(),
  type: protoEnum({ STATIC: 0, STRICT_DNS: 1, LOGICAL_DNS: 2, EDS: 3, ORIGINAL_DST: 4 }, ['STATIC', 'STRICT_DNS', 'LOGICAL_DNS'], 'il reads static config only').default('STATIC'),
  cluster_type: unsupported('custom cluster types are not implemented').optional(),
  connect_timeout: durationOr(5, { positive: true }),
  per_connection_buffer_limit_bytes: uint32().default(1048576),
  lb_policy: protoEnum(
    { ROUND_ROBIN: 0, LEAST_REQUEST: 1, RING_HASH: 2, RANDOM: 3, MAGLEV: 5, CLUSTER_PROVIDED: 6, LOAD_BALANCING_POLICY_CONFIG: 7 },
    ['ROUND_ROBIN', 'LEAST_REQUEST', 'RANDOM'],
    'it is not implemented',
  ).default('ROUND_ROBIN'),
  load_assignment: clusterLoadAssignment.optional(),
  circuit_breakers: circuitBreakers.prefault({}),
  /** Deprecated: folded into typed_extension_protocol_options. */
  http_protocol_options: http1ProtocolOptions.optional(),
  /** Deprecated: folded into typed_extension_protocol_options. */
  http2_protocol_options: http2ProtocolOptions.optional(),
  /** Deprecated: folded into typed_extension_protocol_options. */
  common_http_protocol_options: commonHttpProtocolOptions.optional(),
  typed_extension_protocol_options: z.partialRecord(z.enum([HTTP_PROTOCOL_OPTIONS_KEY]), typedConfig('protocol options', [upstreamHttpProtocolOptions])).optional(),
  dns_refresh_rate: durationOr(5, { min: 1 }),
  respect_dns_ttl: z.boolean().default(false),
  dns_lookup_family: protoEnum({ AUTO: 0, V4_ONLY: 1, V6_ONLY: 2, V4_PREFERRED: 3, ALL: 4 }).default('V4_PREFERRED'),
  transport_socket: clusterTransportSocket.optional(),
  transport_socket_matches: z.array(transportSocketMatch).default([]),
  metadata: metadata.optional(),
  upstream_bind_config: bindConfig.optional(),
  cleanup_interval: duration({ positive: true }).optional(),
};

type ClusterInput = z.output<z.ZodObject<typeof clusterShape, z.core.$strict>>;

/**
 * A cluster. The deprecated protocol option fields are folded into
 * `typed_extension_protocol_options["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"]`,
 * the one place runtime code looks to pick HTTP/1.1 or HTTP/2.
 */
export const cluster = message('envoy.config.cluster.v3.Cluster', clusterShape, {
  oneofs: [oneof('type', 'cluster_type')],
  deprecated: {
    http_protocol_options: `typed_extension_protocol_options["${HTTP_PROTOCOL_OPTIONS_KEY}"].explicit_http_config.http_protocol_options`,
    http2_protocol_options: `typed_extension_protocol_options["${HTTP_PROTOCOL_OPTIONS_KEY}"].explicit_http_config.http2_protocol_options`,
    common_http_protocol_options: `typed_extension_protocol_options["${HTTP_PROTOCOL_OPTIONS_KEY}"].common_http_protocol_options`,
  },
  rules: checkCluster,
}).transform(({ http_protocol_options: h1, http2_protocol_options: h2, common_http_protocol_options: common, ...rest }) => {
  if (!h1 && !h2 && !common) return rest;
  return { ...rest, typed_extension_protocol_options: { [HTTP_PROTOCOL_OPTIONS_KEY]: legacyProtocolOptions(h1, h2, common) } };
});
export type Cluster = z.output<typeof cluster>;

function legacyProtocolOptions(h1?: Http1ProtocolOptions, h2?: Http2ProtocolOptions, common?: CommonHttpProtocolOptions): UpstreamHttpProtocolOptions {
  const options: UpstreamHttpProtocolOptions = {
    '@type': upstreamHttpProtocolOptions.typeUrl,
    explicit_http_config: h2 ? { http2_protocol_options: h2 } : { http_protocol_options: h1 ?? http1ProtocolOptions.parse({}) },
  };
  if (common) options.common_http_protocol_options = common;
  return options;
}

/** Envoy's cluster checks, with its words. */
function checkCluster(c: ClusterInput, report: Report): void {
  const legacy = (['http_protocol_options', 'http2_protocol_options', 'common_http_protocol_options'] as const).find((field) => c[field] !== undefined);
  if (legacy && c.typed_extension_protocol_options?.[HTTP_PROTOCOL_OPTIONS_KEY]) {
    report([legacy], `the deprecated ${legacy} cannot be combined with typed_extension_protocol_options["${HTTP_PROTOCOL_OPTIONS_KEY}"]; move it there`);
  }
  const localities = c.load_assignment?.endpoints ?? [];
  if (c.type === 'LOGICAL_DNS' && (localities.length !== 1 || localities[0]?.lb_endpoints.length !== 1)) {
    report(c.load_assignment ? ['load_assignment'] : [], c.load_assignment ? 'LOGICAL_DNS clusters must have a single locality_lb_endpoint and a single lb_endpoint' : 'LOGICAL_DNS clusters must have a single host');
  }
  localities.forEach((l, i) => {
    l.lb_endpoints.forEach((lb, j) => {
      const socket = lb.endpoint?.address.socket_address;
      const at = ['load_assignment', 'endpoints', i, 'lb_endpoints', j, 'endpoint', 'address'];
      if (socket && c.type === 'STATIC' && isIP(socket.address) === 0) {
        report([...at, 'socket_address', 'address'], `malformed IP address: ${socket.address}. Consider setting resolver_name or setting cluster type to 'STRICT_DNS' or 'LOGICAL_DNS'`);
      }
      if (lb.endpoint?.address.envoy_internal_address && c.type !== 'STATIC') {
        report([...at, 'envoy_internal_address'], `an internal address cannot be resolved by DNS: use type STATIC for cluster '${c.name}'`);
      }
    });
  });
}
