import type { TLSSocket } from 'node:tls';
import type { ClusterManager, DrainManager, Host, UpstreamCluster, UpstreamConnection } from '@il/core';
import { PoolMap, poolKey, type PoolDialOptions } from '../upstream/pool-key.js';
import type { Http2ConnectionPools } from '../upstream/http2-connection-pool.js';
import { sharedHttp2ConnectionPools } from '../upstream/shared-pools.js';
import { sharedHttp1ConnectionPools, type Http1ConnectionPools } from './http1-pools.js';
import { connectionEstablished, connectionOverflow } from './upstream.js';

export type MixedProtocol = 'http1' | 'http2';

/**
 * Envoy's mixed HTTP connection pool (auto_config): the first connection to a host offers ALPN
 * h2 and http/1.1; what the server picks decides the protocol of that host (and pool key) from
 * then on, and the probing connection itself is handed to the HTTP/2 or the HTTP/1.1 pool, so no
 * handshake is wasted. A server that picks no protocol is spoken to in HTTP/1.1. Requests that
 * arrive while the first connection is being set up wait for its answer; a failed probe decides
 * nothing, and the next request probes again.
 */
export class MixedProtocolPools {
  readonly #http1: Http1ConnectionPools;
  readonly #http2: Http2ConnectionPools;
  readonly #decided = new PoolMap<MixedProtocol | Promise<MixedProtocol>>();

  constructor(http1: Http1ConnectionPools, http2: Http2ConnectionPools) {
    this.#http1 = http1;
    this.#http2 = http2;
  }

  /** The protocol for requests to this host, or a promise of it while the first connection negotiates. */
  select(cluster: UpstreamCluster, host: Host, options: PoolDialOptions): MixedProtocol | Promise<MixedProtocol> {
    const key = poolKey(options);
    const known = this.#decided.get(cluster, host, key);
    if (known !== undefined) return known;
    const probe = this.#probe(cluster, host, options).then(
      (protocol) => {
        this.#decided.set(cluster, host, key, protocol);
        return protocol;
      },
      (error: unknown) => {
        this.#decided.delete(cluster, host, key);
        throw error;
      },
    );
    this.#decided.set(cluster, host, key, probe);
    return probe;
  }

  async #probe(cluster: UpstreamCluster, host: Host, options: PoolDialOptions): Promise<MixedProtocol> {
    const connection = cluster.newConnection(host, options);
    if (connection === 'overflow') throw connectionOverflow(cluster);
    await connectionEstablished(connection, host);
    const protocol = negotiated(connection);
    if (protocol === 'http2') this.#http2.for(cluster, host, options).adopt(connection);
    else this.#http1.adopt(cluster, host, options, connection);
    return protocol;
  }
}

/** What ALPN chose on a connected upstream connection (TLS, or internal_upstream over TLS). */
function negotiated(connection: UpstreamConnection): MixedProtocol {
  const alpn = (connection.socket as Partial<TLSSocket>).alpnProtocol;
  return alpn === 'h2' ? 'http2' : 'http1';
}

const shared = new WeakMap<ClusterManager, MixedProtocolPools>();

/** The mixed pools of one runtime, over its shared HTTP/1.1 and HTTP/2 pools. */
export function sharedMixedProtocolPools(context: { readonly clusterManager: ClusterManager; readonly drain: DrainManager }): MixedProtocolPools {
  let pools = shared.get(context.clusterManager);
  if (pools === undefined) {
    pools = new MixedProtocolPools(sharedHttp1ConnectionPools(context), sharedHttp2ConnectionPools(context));
    shared.set(context.clusterManager, pools);
  }
  return pools;
}
