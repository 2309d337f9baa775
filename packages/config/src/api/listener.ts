/** envoy.config.listener.v3.Listener: TCP listeners and internal listeners, with their filter chains. */
import { isIP } from 'node:net';
import * as z from 'zod';
import { address, addressString, cidrRange, metadata, socketOption } from './core.js';
import type { Address } from './core.js';
import { httpConnectionManager } from './http-connection-manager.js';
import { tcpProxy } from './tcp-proxy.js';
import { tlsInspector } from './tls.js';
import { downstreamTransportSocket } from './transport-socket.js';
import { duration, durationOr, empty, message, nonEmptyString, protoEnum, requiredOneof, struct, typedConfig, uint32, unsupported } from '../schema/proto.js';
import type { Report } from '../schema/proto.js';

/** The network filters il implements. Both are terminal: each must end its filter chain. */
export const networkFilterConfig = typedConfig('network filter', [tcpProxy, httpConnectionManager]);
export type NetworkFilterConfig = z.output<typeof networkFilterConfig>;

/** Envoy's factory name for each network filter type, as used in its "terminal filter" errors. */
export const NETWORK_FILTER_FACTORY_NAMES: Readonly<Record<NetworkFilterConfig['@type'], string>> = {
  [tcpProxy.typeUrl]: 'envoy.filters.network.tcp_proxy',
  [httpConnectionManager.typeUrl]: 'envoy.filters.network.http_connection_manager',
};

export const networkFilter = message('envoy.config.listener.v3.Filter', {
  name: nonEmptyString(),
  typed_config: networkFilterConfig,
});
export type NetworkFilter = z.output<typeof networkFilter>;

const port = () => uint32({ min: 1, max: 65535 });

export const filterChainMatch = message('envoy.config.listener.v3.FilterChainMatch', {
  destination_port: port().optional(),
  prefix_ranges: z.array(cidrRange).default([]),
  direct_source_prefix_ranges: z.array(cidrRange).default([]),
  source_type: protoEnum({ ANY: 0, SAME_IP_OR_LOOPBACK: 1, EXTERNAL: 2 }).default('ANY'),
  source_prefix_ranges: z.array(cidrRange).default([]),
  source_ports: z.array(port()).default([]),
  server_names: z.array(z.string()).default([]),
  transport_protocol: z.string().default(''),
  application_protocols: z.array(z.string()).default([]),
});
export type FilterChainMatch = z.output<typeof filterChainMatch>;

export const filterChain = message('envoy.config.listener.v3.FilterChain', {
  name: z.string().default(''),
  /** Always present: an empty match (every field at its default) matches every connection. */
  filter_chain_match: filterChainMatch.prefault({}),
  filters: z.array(networkFilter).default([]),
  transport_socket: downstreamTransportSocket.optional(),
  transport_socket_connect_timeout: duration().optional(),
  metadata: metadata.optional(),
});
export type FilterChain = z.output<typeof filterChain>;

/** The listener filters il implements: tls_inspector. Any other is refused, by name. */
export const listenerFilterConfig = typedConfig('listener filter', [tlsInspector]);

const listenerFilter = message(
  'envoy.config.listener.v3.ListenerFilter',
  { name: nonEmptyString(), typed_config: listenerFilterConfig, filter_disabled: struct.optional() },
  {
    rules: (filter, report) => {
      if (filter.filter_disabled !== undefined) report(['filter_disabled'], 'not supported: listener filter matchers (filter_disabled) are not implemented');
    },
  },
);
export type ListenerFilter = z.output<typeof listenerFilter>;

const additionalAddress = message('envoy.config.listener.v3.AdditionalAddress', {
  address,
  socket_options: message('envoy.config.core.v3.SocketOptionsOverride', { socket_options: z.array(socketOption).default([]) }).optional(),
});

const listenerShape = {
  /** Filled from the address when unset (Envoy uses a random UUID). */
  name: z.string().default(''),
  address: address.optional(),
  additional_addresses: z.array(additionalAddress).default([]),
  /** Filled when unset: `envoy_internal_<name>` for internal listeners, else the address with `_` for `:`. */
  stat_prefix: z.string().default(''),
  filter_chains: z.array(filterChain).default([]),
  default_filter_chain: filterChain.optional(),
  per_connection_buffer_limit_bytes: uint32().default(1048576),
  metadata: metadata.optional(),
  drain_type: protoEnum({ DEFAULT: 0, MODIFY_ONLY: 1 }).default('DEFAULT'),
  listener_filters: z.array(listenerFilter).default([]),
  listener_filters_timeout: durationOr(15),
  continue_on_listener_filters_timeout: z.boolean().default(false),
  transparent: z.boolean().optional(),
  freebind: z.boolean().optional(),
  socket_options: z.array(socketOption).default([]),
  tcp_fast_open_queue_length: uint32().optional(),
  traffic_direction: protoEnum({ UNSPECIFIED: 0, INBOUND: 1, OUTBOUND: 2 }).default('UNSPECIFIED'),
  connection_balance_config: message(
    'envoy.config.listener.v3.Listener.ConnectionBalanceConfig',
    {
      exact_balance: empty('envoy.config.listener.v3.Listener.ConnectionBalanceConfig.ExactBalance').optional(),
      extend_balance: unsupported('connection balancer extensions are not implemented').optional(),
    },
    { oneofs: [requiredOneof('exact_balance', 'extend_balance')] },
  ).optional(),
  enable_reuse_port: z.boolean().optional(),
  tcp_backlog_size: uint32().optional(),
  enable_mptcp: z.boolean().default(false),
  /** Present (as `{}`) on internal listeners: they are reached by name, never by a socket. */
  internal_listener: empty('envoy.config.listener.v3.Listener.InternalListenerConfig').optional(),
  udp_listener_config: unsupported('il is TCP-only').optional(),
  api_listener: unsupported('API listeners are not implemented').optional(),
};

const listenerMessage = message('envoy.config.listener.v3.Listener', listenerShape, { rules: checkListener });

export const listener = listenerMessage.transform((l) => {
  const name = l.name || listenerAddresses(l);
  const statPrefix = l.stat_prefix || (l.internal_listener ? `envoy_internal_${name}` : listenerAddresses(l).replaceAll(':', '_'));
  return { ...l, name, stat_prefix: statPrefix };
});
export type Listener = z.output<typeof listener>;

type ListenerInput = z.output<z.ZodObject<typeof listenerShape, z.core.$strict>>;

/** Envoy's `absl::StrJoin(addresses_, ",")`: the listener's addresses as its errors print them. */
function listenerAddresses(l: ListenerInput): string {
  if (l.internal_listener) return `envoy://${l.name}/`;
  const all: Address[] = [...(l.address ? [l.address] : []), ...l.additional_addresses.map((a) => a.address)];
  return all.map(addressString).join(',');
}

/** Envoy's listener checks (listener_impl.cc), with its words. */
function checkListener(l: ListenerInput, report: Report): void {
  const name = l.name || listenerAddresses(l);
  if (l.internal_listener) {
    checkInternalListener(l, name, report);
  } else if (!l.address) {
    report([], `error adding listener named '${name}': address is necessary`);
    return;
  } else {
    const addresses = [l.address, ...l.additional_addresses.map((a) => a.address)];
    addresses.forEach((a, i) => {
      const at = i === 0 ? ['address'] : ['additional_addresses', i - 1, 'address'];
      if (a.envoy_internal_address) {
        report([...at, 'envoy_internal_address'], `error adding listener named '${name}': use internal_listener field instead of address for internal listeners`);
      } else if (a.socket_address && isIP(a.socket_address.address) === 0) {
        report([...at, 'socket_address', 'address'], `malformed IP address: ${a.socket_address.address}`);
      }
    });
  }
  if (l.filter_chains.length === 0 && !l.default_filter_chain) {
    report(['filter_chains'], `error adding listener '${listenerAddresses(l)}': no filter chains specified`);
  }
  l.filter_chains.forEach((chain, i) => checkFilterChain(chain, ['filter_chains', i], report));
  if (l.default_filter_chain) checkFilterChain(l.default_filter_chain, ['default_filter_chain'], report);
  checkDuplicateMatches(l, report);
}

function checkInternalListener(l: ListenerInput, name: string, report: Report): void {
  if (!l.name) report(['name'], 'an internal listener needs a name: clusters reach it through envoy_internal_address.server_listener_name');
  if (l.address || l.additional_addresses.length > 0) {
    report([l.address ? 'address' : 'additional_addresses'], `error adding listener '${name}': address should not be used when an internal listener config is provided`);
  }
  const unsupportedFeature = `error adding listener named '${name}': has unsupported tcp listener feature`;
  if (l.connection_balance_config?.exact_balance) report(['connection_balance_config'], unsupportedFeature);
  if (l.enable_mptcp) report(['enable_mptcp'], unsupportedFeature);
  if (l.enable_reuse_port !== undefined) report(['enable_reuse_port'], unsupportedFeature);
  if (l.freebind === true) report(['freebind'], unsupportedFeature);
  if (l.tcp_backlog_size !== undefined) report(['tcp_backlog_size'], unsupportedFeature);
  if (l.tcp_fast_open_queue_length !== undefined) report(['tcp_fast_open_queue_length'], unsupportedFeature);
  if (l.transparent === true) report(['transparent'], unsupportedFeature);
  if (l.socket_options.length > 0) report(['socket_options'], `error adding listener named '${name}': does not support socket option`);
}

/** Envoy's terminal-filter rule: a terminal filter (TcpProxy, HCM) must be the last one. */
function checkFilterChain(chain: FilterChain, at: (string | number)[], report: Report): void {
  chain.filters.forEach((filter, i) => {
    // Every network filter il implements is terminal, so only the "must be last" half can fail.
    if (i < chain.filters.length - 1) {
      const type = NETWORK_FILTER_FACTORY_NAMES[filter.typed_config['@type']];
      report([...at, 'filters', i], `Error: terminal filter named ${filter.name} of type ${type} must be the last filter in a network filter chain.`);
    }
  });
}

function checkDuplicateMatches(l: ListenerInput, report: Report): void {
  const seen = new Map<string, string>();
  l.filter_chains.forEach((chain, i) => {
    const key = matchJson(chain.filter_chain_match);
    const earlier = seen.get(key);
    if (earlier !== undefined) {
      report(['filter_chains', i, 'filter_chain_match'], `error adding listener '${listenerAddresses(l)}': filter chain '${chain.name}' has the same matching rules defined as '${earlier}'. duplicate matcher is: ${key}`);
    } else {
      seen.set(key, chain.name);
    }
  });
}

/** The match as Envoy prints it: only the fields that differ from their defaults. */
function matchJson(match: FilterChainMatch): string {
  const set = Object.entries(match).filter(([, value]) => value !== undefined && value !== '' && value !== 'ANY' && !(Array.isArray(value) && value.length === 0));
  return JSON.stringify(Object.fromEntries(set));
}
