import { BlockList, isIP } from 'node:net';
import type { FilterChain } from '@il/config/runtime';
import type { ConnectionAddress } from './connection-address.js';

/** What a new connection offers to filter chain matching. */
export interface MatchInput {
  local: ConnectionAddress;
  remote: ConnectionAddress;
  /** Without a TLS inspector there is never an SNI; kept for completeness. */
  serverName?: string | undefined;
  transportProtocol?: string | undefined;
  applicationProtocols?: readonly string[] | undefined;
}

type Match = FilterChain['filter_chain_match'];
type CidrRange = Match['prefix_ranges'][number];

/**
 * Envoy's filter chain selection: criteria are applied in Envoy's order (destination port,
 * destination IP, server name, transport protocol, application protocols, direct source IP,
 * source type, source IP, source port); at each step a chain that names a matching value
 * beats one that leaves the criterion empty, and the most specific value wins (longest
 * prefix, exact name before wildcard). A chain that names values that do not match is out.
 * Returns the default chain when nothing matches.
 */
export function selectFilterChain(chains: readonly FilterChain[], input: MatchInput, defaultChain?: FilterChain): FilterChain | undefined {
  const localIp = input.local.kind === 'ip' ? input.local.ip : undefined;
  const localPort = input.local.kind === 'ip' ? input.local.port : undefined;
  const remoteIp = input.remote.kind === 'ip' ? input.remote.ip : undefined;
  const remotePort = input.remote.kind === 'ip' ? input.remote.port : undefined;
  const steps: Array<(m: Match) => number> = [
    (m) => (m.destination_port === undefined ? 0 : m.destination_port === localPort ? 1 : -1),
    (m) => prefixScore(m.prefix_ranges, localIp),
    (m) => serverNameScore(m.server_names, input.serverName),
    (m) => (m.transport_protocol === '' ? 0 : m.transport_protocol === (input.transportProtocol ?? 'raw_buffer') ? 1 : -1),
    (m) =>
      m.application_protocols.length === 0 ? 0 : m.application_protocols.some((p) => input.applicationProtocols?.includes(p)) ? 1 : -1,
    (m) => prefixScore(m.direct_source_prefix_ranges, remoteIp),
    (m) => sourceTypeScore(m.source_type, remoteIp, localIp),
    (m) => prefixScore(m.source_prefix_ranges, remoteIp),
    (m) => (m.source_ports.length === 0 ? 0 : remotePort !== undefined && m.source_ports.includes(remotePort) ? 1 : -1),
  ];
  let candidates = [...chains];
  for (const step of steps) {
    // One chain left (a listener's usual case): it only has to not rule itself out.
    if (candidates.length === 1) {
      if (step((candidates[0] as FilterChain).filter_chain_match) < 0) return defaultChain;
      continue;
    }
    const scored = candidates.map((chain) => ({ chain, score: step(chain.filter_chain_match) })).filter((c) => c.score >= 0);
    if (scored.length === 0) return defaultChain;
    const best = Math.max(...scored.map((c) => c.score));
    candidates = scored.filter((c) => c.score === best).map((c) => c.chain);
  }
  return candidates[0] ?? defaultChain;
}

/** 0 for no ranges, -1 for no match, else 1 + the longest matching prefix length. */
function prefixScore(ranges: readonly CidrRange[], ip: string | undefined): number {
  if (ranges.length === 0) return 0;
  if (ip === undefined) return -1;
  const family = isIP(ip) === 6 ? 'ipv6' : 'ipv4';
  let best = -1;
  for (const range of ranges) {
    const rangeFamily = isIP(range.address_prefix) === 6 ? 'ipv6' : 'ipv4';
    if (rangeFamily !== family) continue;
    const list = new BlockList();
    list.addSubnet(range.address_prefix, range.prefix_len, rangeFamily);
    if (list.check(ip, family)) best = Math.max(best, 1 + range.prefix_len);
  }
  return best;
}

function serverNameScore(names: readonly string[], serverName: string | undefined): number {
  if (names.length === 0) return 0;
  if (serverName === undefined) return -1;
  let best = -1;
  for (const name of names) {
    if (name === serverName) best = Math.max(best, 1000);
    else if (name.startsWith('*.') && serverName.endsWith(name.slice(1))) best = Math.max(best, name.length);
  }
  return best;
}

function sourceTypeScore(type: Match['source_type'], remoteIp: string | undefined, localIp: string | undefined): number {
  if (type === 'ANY') return 0;
  const local = remoteIp !== undefined && (remoteIp === localIp || remoteIp.startsWith('127.') || remoteIp === '::1');
  if (type === 'SAME_IP_OR_LOOPBACK') return local ? 1 : -1;
  return remoteIp !== undefined && !local ? 1 : -1;
}
