import type { ClusterManager, DrainManager, Host, UpstreamCluster } from '@il/core';
import { Http1ConnectionPool, type Http1PoolOptions } from './http1-connection.js';

export type { Http1PoolOptions } from './http1-connection.js';

/** Envoy's common_http_protocol_options.idle_timeout default (1 hour). */
const DEFAULT_IDLE_TIMEOUT_MS = 3_600_000;

/**
 * HTTP/1.1 connection pools: one per cluster, host and pool key (http1-connection.ts). Each pool
 * dials through `cluster.newConnection`, so internal hosts go through the internal listener
 * registry and the cluster's connection stats and circuit breakers count every connection.
 */
export class Http1ConnectionPools {
  readonly #pools = new Map<UpstreamCluster, Map<Host, Map<string | number, Http1ConnectionPool>>>();
  #closed = false;

  for(cluster: UpstreamCluster, host: Host, options: Http1PoolOptions): Http1ConnectionPool {
    let byHost = this.#pools.get(cluster);
    if (byHost === undefined) {
      byHost = new Map();
      this.#pools.set(cluster, byHost);
    }
    let byKey = byHost.get(host);
    if (byKey === undefined) {
      byKey = new Map();
      byHost.set(host, byKey);
    }
    const key = poolKey(options);
    let pool = byKey.get(key);
    if (pool === undefined) {
      pool = createPool(cluster, host, options);
      byKey.set(key, pool);
    }
    return pool;
  }

  /** Server drain: idle connections go now, busy ones after their request. */
  drain(): void {
    for (const pool of this.#all()) pool.drain();
    this.#pools.clear();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const pool of this.#all()) pool.close();
    this.#pools.clear();
  }

  *#all(): Generator<Http1ConnectionPool> {
    for (const byHost of this.#pools.values()) for (const byKey of byHost.values()) yield* byKey.values();
  }
}

/**
 * Envoy hashes the filter-state objects a connection carries to an internal listener into the pool
 * key, so requests with different shared state never share a connection (issue #35711's fix).
 * Without shared objects the key is the hop count alone.
 */
function poolKey(options: Http1PoolOptions): string | number {
  const state = options.downstreamFilterState;
  if (state === undefined || state.size === 0) return options.hops;
  const shared = state.sharedWithUpstream();
  if (shared.length === 0) return options.hops;
  let serialized: string;
  try {
    serialized = JSON.stringify(shared.map((s) => [s.key, s.sharing, s.value]));
  } catch {
    serialized = `unserializable:${shared.map((s) => s.key).join(',')}`;
  }
  return `${options.hops}|${serialized}`;
}

function createPool(cluster: UpstreamCluster, host: Host, options: Http1PoolOptions): Http1ConnectionPool {
  const idleMs = cluster.commonHttpOptions?.idle_timeout.ms ?? DEFAULT_IDLE_TIMEOUT_MS;
  return new Http1ConnectionPool(cluster, host, options, {
    idleTimeoutMs: idleMs > 0 ? idleMs : DEFAULT_IDLE_TIMEOUT_MS,
    maxRequestsPerConnection: cluster.commonHttpOptions?.max_requests_per_connection ?? 0,
  });
}

const shared = new WeakMap<ClusterManager, Http1ConnectionPools>();

/** The HTTP/1.1 pools of one runtime (one set per cluster manager), drained with it. */
export function sharedHttp1ConnectionPools(context: { readonly clusterManager: ClusterManager; readonly drain: DrainManager }): Http1ConnectionPools {
  let pools = shared.get(context.clusterManager);
  if (pools === undefined) {
    const created = new Http1ConnectionPools();
    shared.set(context.clusterManager, created);
    context.drain.once('drain', () => created.drain());
    pools = created;
  }
  return pools;
}
