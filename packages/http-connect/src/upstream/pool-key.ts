import { transportSocketOptionsKey, type FilterState, type Host, type TransportSocketOptions, type UpstreamCluster } from '@il/core';

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

/**
 * What the pools keep per cluster, host and pool key (Envoy's per-host pool containers): one
 * entry each, made on first use.
 */
export class PoolMap<T> {
  readonly #byCluster = new Map<UpstreamCluster, Map<Host, Map<string, T>>>();

  get(cluster: UpstreamCluster, host: Host, key: string): T | undefined {
    return this.#byCluster.get(cluster)?.get(host)?.get(key);
  }

  /** The entry, made by `create` when there is none. */
  getOrCreate(cluster: UpstreamCluster, host: Host, key: string, create: () => T): T {
    const byKey = this.#byKey(cluster, host);
    let entry = byKey.get(key);
    if (entry === undefined) {
      entry = create();
      byKey.set(key, entry);
    }
    return entry;
  }

  set(cluster: UpstreamCluster, host: Host, key: string, value: T): void {
    this.#byKey(cluster, host).set(key, value);
  }

  delete(cluster: UpstreamCluster, host: Host, key: string): void {
    this.#byCluster.get(cluster)?.get(host)?.delete(key);
  }

  *values(): Generator<T> {
    for (const byHost of this.#byCluster.values()) for (const byKey of byHost.values()) yield* byKey.values();
  }

  clear(): void {
    this.#byCluster.clear();
  }

  #byKey(cluster: UpstreamCluster, host: Host): Map<string, T> {
    let byHost = this.#byCluster.get(cluster);
    if (byHost === undefined) {
      byHost = new Map();
      this.#byCluster.set(cluster, byHost);
    }
    let byKey = byHost.get(host);
    if (byKey === undefined) {
      byKey = new Map();
      byHost.set(host, byKey);
    }
    return byKey;
  }
}
