import { transportSocketOptionsKey, type FilterState, type TransportSocketOptions } from '@il/core';

/** What a connection of a pool is dialled with, beyond the cluster and host. */
export interface PoolDialOptions {
  /** Internal hops of the downstream connection (internal listeners bound the depth). */
  hops?: number | undefined;
  /** The downstream's filter state: shared objects ride along to internal listeners. */
  downstreamFilterState?: FilterState | undefined;
  /** SNI and SAN overrides (auto_sni, auto_san_validation). */
  transportSocketOptions?: TransportSocketOptions | undefined;
}

/**
 * Which pool of a host a request may use. Envoy hashes into the pool key what makes connections
 * differ: the filter-state objects a connection carries to an internal listener (issue #35711's
 * fix) and the transport socket options (SNI, SAN overrides), so requests for different server
 * names or with different shared state never share a connection.
 */
export function poolKey(options: PoolDialOptions): string {
  const hops = String(options.hops ?? 0);
  const tso = transportSocketOptionsKey(options.transportSocketOptions);
  const shared = options.downstreamFilterState?.sharedWithUpstream() ?? [];
  let state = '';
  if (shared.length > 0) {
    try {
      state = JSON.stringify(shared.map((s) => [s.key, s.sharing, s.value]));
    } catch {
      state = `unserializable:${shared.map((s) => s.key).join(',')}`;
    }
  }
  return `${hops}|${tso}|${state}`;
}
