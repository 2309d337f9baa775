/**
 * Transport sockets: raw_buffer everywhere (il has no TLS), and on clusters the internal_upstream
 * wrapper that passes metadata into internal listeners.
 */
import * as z from 'zod';
import { empty, message, nonEmptyString, requiredOneof, typedConfig, typedMessage } from '../schema/proto.js';

export const rawBuffer = typedMessage('envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer', ['envoy.transport_sockets.raw_buffer'], {});
export type RawBuffer = z.output<typeof rawBuffer.schema>;

/** A transport socket whose config can only be raw_buffer. */
export const rawBufferTransportSocket = message('envoy.config.core.v3.TransportSocket', {
  name: nonEmptyString(),
  typed_config: typedConfig('transport socket', [rawBuffer]),
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
    transport_socket: rawBufferTransportSocket,
  },
);
export type InternalUpstreamTransport = z.output<typeof internalUpstreamTransport.schema>;

/** A cluster's transport socket: raw_buffer, or internal_upstream wrapping raw_buffer. */
export const clusterTransportSocket = message('envoy.config.core.v3.TransportSocket', {
  name: nonEmptyString(),
  typed_config: typedConfig('cluster transport socket', [rawBuffer, internalUpstreamTransport]),
});

export type TransportSocket = z.output<typeof rawBufferTransportSocket>;
export type ClusterTransportSocket = z.output<typeof clusterTransportSocket>;
