/** envoy.config.core.v3 and envoy.type.v3: the messages everything else is built from. */
import { isIP } from 'node:net';
import * as z from 'zod';
import {
  duration,
  empty,
  headerName,
  message,
  nonEmptyString,
  percent,
  protoEnum,
  requiredOneof,
  struct,
  uint32,
  unsupported,
} from '../schema/proto.js';
import { Duration } from '../duration.js';
export { addressString } from '../address-string.js';

// ---------------------------------------------------------------- addresses

export const socketAddress = message('envoy.config.core.v3.SocketAddress', {
  protocol: protoEnum({ TCP: 0, UDP: 1 }, ['TCP'], 'il is TCP-only').default('TCP'),
  address: nonEmptyString(),
  port_value: uint32({ max: 65535 }),
  resolver_name: unsupported('custom resolvers are not implemented').optional(),
  ipv4_compat: z.boolean().default(false),
});

export const pipe = message('envoy.config.core.v3.Pipe', {
  path: nonEmptyString(),
  mode: uint32({ max: 0o777 }).default(0),
});

export const envoyInternalAddress = message('envoy.config.core.v3.EnvoyInternalAddress', {
  server_listener_name: nonEmptyString(),
  endpoint_id: z.string().default(''),
});

export const address = message(
  'envoy.config.core.v3.Address',
  { socket_address: socketAddress.optional(), pipe: pipe.optional(), envoy_internal_address: envoyInternalAddress.optional() },
  { oneofs: [requiredOneof('socket_address', 'pipe', 'envoy_internal_address')] },
);

export type SocketAddress = z.output<typeof socketAddress>;
export type Pipe = z.output<typeof pipe>;
export type EnvoyInternalAddress = z.output<typeof envoyInternalAddress>;
export type Address = z.output<typeof address>;

export const cidrRange = message(
  'envoy.config.core.v3.CidrRange',
  { address_prefix: nonEmptyString(), prefix_len: uint32({ max: 128 }).default(0) },
  {
    rules: (range, report) => {
      const family = isIP(range.address_prefix);
      if (family === 0) report(['address_prefix'], `malformed IP address: ${range.address_prefix}`);
      else if (family === 4 && range.prefix_len > 32) report(['prefix_len'], 'prefix_len must be at most 32 for an IPv4 prefix');
    },
  },
);

export const socketOption = message(
  'envoy.config.core.v3.SocketOption',
  {
    description: z.string().default(''),
    level: z.number().int(),
    name: z.number().int(),
    int_value: z.number().int().optional(),
    buf_value: z.string().optional(),
    state: protoEnum({ STATE_PREBIND: 0, STATE_BOUND: 1, STATE_LISTENING: 2 }).default('STATE_PREBIND'),
  },
  { oneofs: [requiredOneof('int_value', 'buf_value')] },
);

export const bindConfig = message('envoy.config.core.v3.BindConfig', {
  source_address: socketAddress.optional(),
  freebind: z.boolean().optional(),
  socket_options: z.array(socketOption).default([]),
});

// ---------------------------------------------------------------- metadata, node, locality

export const metadata = message('envoy.config.core.v3.Metadata', {
  /** Per filter namespace, e.g. `envoy.lb`, a free-form Struct. */
  filter_metadata: z.record(z.string(), struct).default({}),
});
export type Metadata = z.output<typeof metadata>;

export const locality = message('envoy.config.core.v3.Locality', {
  region: z.string().default(''),
  zone: z.string().default(''),
  sub_zone: z.string().default(''),
});
export type Locality = z.output<typeof locality>;

export const node = message('envoy.config.core.v3.Node', {
  id: z.string().default(''),
  cluster: z.string().default(''),
  metadata: struct.optional(),
  locality: locality.optional(),
});
export type Node = z.output<typeof node>;

// ---------------------------------------------------------------- headers and data

export const headerValue = message('envoy.config.core.v3.HeaderValue', {
  key: headerName().max(16384),
  value: z.string().max(16384).default(''),
});

export const headerAppendAction = protoEnum({
  APPEND_IF_EXISTS_OR_ADD: 0,
  ADD_IF_ABSENT: 1,
  OVERWRITE_IF_EXISTS_OR_ADD: 2,
  OVERWRITE_IF_EXISTS: 3,
});

/**
 * A header to add. The deprecated `append` BoolValue is folded into `append_action`
 * (true → APPEND_IF_EXISTS_OR_ADD, false → OVERWRITE_IF_EXISTS_OR_ADD), so runtime code reads one field.
 */
export const headerValueOption = message(
  'envoy.config.core.v3.HeaderValueOption',
  {
    header: headerValue,
    append: z.boolean().optional(),
    append_action: headerAppendAction.optional(),
    keep_empty_value: z.boolean().default(false),
  },
  {
    rules: (option, report) => {
      if (option.append !== undefined && option.append_action !== undefined) report(['append'], "Both append and append_action are set and it's not allowed");
    },
  },
).transform(({ append, append_action, ...rest }) => ({
  ...rest,
  append_action: append_action ?? (append === false ? ('OVERWRITE_IF_EXISTS_OR_ADD' as const) : ('APPEND_IF_EXISTS_OR_ADD' as const)),
}));
export type HeaderValueOption = z.output<typeof headerValueOption>;

export const headersToAdd = (max = 1000) => z.array(headerValueOption).max(max).default([]);
export const headersToRemove = () => z.array(headerName()).default([]);

const BASE64 = /^[A-Za-z0-9+/\-_]*={0,2}$/;
export const bytes = () => z.string().regex(BASE64, { error: 'expected base64 text (protobuf bytes)' });

export const dataSource = message(
  'envoy.config.core.v3.DataSource',
  {
    filename: nonEmptyString().optional(),
    inline_bytes: bytes().optional(),
    inline_string: z.string().optional(),
    environment_variable: nonEmptyString().optional(),
  },
  { oneofs: [requiredOneof('filename', 'inline_bytes', 'inline_string', 'environment_variable')] },
);
export type DataSource = z.output<typeof dataSource>;

// ---------------------------------------------------------------- retries, hashing, proxy protocol

/** `max_interval` is filled with Envoy's default, ten times `base_interval`. */
export const backoffStrategy = message(
  'envoy.config.core.v3.BackoffStrategy',
  { base_interval: duration({ min: 1 }), max_interval: duration({ positive: true }).optional() },
  {
    rules: (backoff, report) => {
      if (backoff.max_interval && backoff.max_interval.ms < backoff.base_interval.ms) {
        report(['max_interval'], 'max_backoff_interval must be greater or equal to base_backoff_interval');
      }
    },
  },
).transform((backoff) => ({ ...backoff, max_interval: backoff.max_interval ?? new Duration(backoff.base_interval.ms * 10) }));
export type BackoffStrategy = z.output<typeof backoffStrategy>;

export const hashPolicy = message(
  'envoy.type.v3.HashPolicy',
  {
    source_ip: empty('envoy.type.v3.HashPolicy.SourceIp').optional(),
    filter_state: message('envoy.type.v3.HashPolicy.FilterState', { key: nonEmptyString() }).optional(),
  },
  { oneofs: [requiredOneof('source_ip', 'filter_state')] },
);

export const proxyProtocolConfig = message('envoy.config.core.v3.ProxyProtocolConfig', {
  version: protoEnum({ V1: 0, V2: 1 }).default('V1'),
});

export const tlvEntry = message('envoy.config.core.v3.TlvEntry', {
  type: uint32({ max: 255 }),
  value: bytes(),
});

export { percent };
export type Percent = z.output<typeof percent>;
