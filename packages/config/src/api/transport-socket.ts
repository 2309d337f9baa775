/**
 * Transport sockets: raw_buffer or TLS (DownstreamTlsContext on listeners, UpstreamTlsContext on
 * clusters), and on clusters the internal_upstream wrapper that passes metadata into internal
 * listeners around either of them.
 */
import * as z from 'zod';
import { downstreamTlsContext, upstreamTlsContext } from './tls.js';
import { empty, message, nonEmptyString, requiredOneof, struct, typedConfig, typedMessage } from '../schema/proto.js';

export const rawBuffer = typedMessage('envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer', ['envoy.transport_sockets.raw_buffer'], {});
export type RawBuffer = z.output<typeof rawBuffer.schema>;

/** A listener's (filter chain's) transport socket: raw_buffer or downstream TLS. */
export const downstreamTransportSocket = message('envoy.config.core.v3.TransportSocket', {
  name: nonEmptyString(),
  typed_config: typedConfig('downstream transport socket', [rawBuffer, downstreamTlsContext]),
});

/** What internal_upstream wraps: raw_buffer or upstream TLS. */
export const upstreamInnerTransportSocket = message('envoy.config.core.v3.TransportSocket', {
  name: nonEmptyString(),
  typed_config: typedConfig('transport socket', [rawBuffer, upstreamTlsContext]),
});

const metadataKind = message(
  'envoy.type.metadata.v3.MetadataKind',
  {
    host: empty('envoy.type.metadata.v3.MetadataKind.Host').optional(),
    cluster: empty('envoy.type.metadata.v3.MetadataKind.Cluster').optional(),
    request: empty('envoy.type.metadata.v3.MetadataKind.Request').optional(),
    route: empty('envoy.type.metadata.v3.MetadataKind.Route').optional(),
  },
  {
    oneofs: [requiredOneof('host', 'cluster', 'request', 'route')],
    rules: (kind, report) => {
      // Envoy's internal_upstream factory accepts only host and cluster metadata.
      for (const other of ['request', 'route'] as const) {
        if (kind[other]) report([other], `metadata type is not supported: ${other}`);
      }
    },
  },
);

export const internalUpstreamTransport = typedMessage(
  'envoy.extensions.transport_sockets.internal_upstream.v3.InternalUpstreamTransport',
  ['envoy.transport_sockets.internal_upstream'],
  {
    passthrough_metadata: z
      .array(message('envoy.extensions.transport_sockets.internal_upstream.v3.InternalUpstreamTransport.MetadataValueSource', { kind: metadataKind, name: nonEmptyString() }))
      .default([]),
    transport_socket: upstreamInnerTransportSocket,
  },
);
export type InternalUpstreamTransport = z.output<typeof internalUpstreamTransport.schema>;

/** A cluster's transport socket: raw_buffer, upstream TLS, or internal_upstream wrapping one of them. */
export const clusterTransportSocket = message('envoy.config.core.v3.TransportSocket', {
  name: nonEmptyString(),
  typed_config: typedConfig('cluster transport socket', [rawBuffer, upstreamTlsContext, internalUpstreamTransport]),
});

/** transport_socket_matches: the first whose `match` is a subset of the endpoint's (or locality's) `envoy.transport_socket_match` metadata wins. */
export const transportSocketMatch = message('envoy.config.cluster.v3.Cluster.TransportSocketMatch', {
  name: nonEmptyString(),
  match: struct.default({}),
  transport_socket: clusterTransportSocket,
});

export type DownstreamTransportSocket = z.output<typeof downstreamTransportSocket>;
export type ClusterTransportSocket = z.output<typeof clusterTransportSocket>;
export type TransportSocketMatch = z.output<typeof transportSocketMatch>;

