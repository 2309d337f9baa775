import type { TLSSocket } from 'node:tls';
import type { ClusterManager, DrainManager, Host, UpstreamCluster, UpstreamConnection } from '@il/core';
import { poolKey, type PoolDialOptions } from '../upstream/pool-key.js';
import type { Http2ConnectionPools } from '../upstream/http2-connection-pool.js';
import { sharedHttp2ConnectionPools } from '../upstream/shared-pools.js';
import { sharedHttp1ConnectionPools, type Http1ConnectionPools } from './http1-pools.js';
import { UpstreamConnectError } from './upstream.js';

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
  readonly #decided = new WeakMap<UpstreamCluster, WeakMap<Host, Map<string, MixedProtocol | Promise<MixedProtocol>>>>();

  constructor(http1: Http1ConnectionPools, http2: Http2ConnectionPools) {
    this.#http1 = http1;
    this.#http2 = http2;
  }

  /** The protocol for requests to this host, or a promise of it while the first connection negotiates. */
  select(cluster: UpstreamCluster, host: Host, options: PoolDialOptions): MixedProtocol | Promise<MixedProtocol> {
    let byHost = this.#decided.get(cluster);
    if (byHost === undefined) {
      byHost = new WeakMap();
      this.#decided.set(cluster, byHost);
    }
    let byKey = byHost.get(host);
    if (byKey === undefined) {
      byKey = new Map();
      byHost.set(host, byKey);
    }
    const key = poolKey(options);
    const known = byKey.get(key);
    if (known !== undefined) return known;
    const decisions = byKey;
    const probe = this.#probe(cluster, host, options).then(
      (protocol) => {
        decisions.set(key, protocol);
        return protocol;
      },
      (error: unknown) => {
        decisions.delete(key);
        throw error;
      },
    );
    decisions.set(key, probe);
    return probe;
  }

  #probe(cluster: UpstreamCluster, host: Host, options: PoolDialOptions): Promise<MixedProtocol> {
    return new Promise((resolve, reject) => {
      const connection = cluster.newConnection(host, { hops: options.hops, downstreamFilterState: options.downstreamFilterState, transportSocketOptions: options.transportSocketOptions });
      if (connection === 'overflow') {
        reject(new UpstreamConnectError('overflow', undefined, `cluster '${cluster.name}': max_connections reached`));
        return;
      }
      const socket = connection.socket;
      let settled = false;
      const onError = (error: NodeJS.ErrnoException): void => {
        if (settled) return;
        settled = true;
        reject(UpstreamConnectError.fromSocketError(error, host, false));
      };
      const onClose = (): void => onError(Object.assign(new Error('connection closed before it was established'), { code: 'ECONNRESET' }));
      socket.once('error', onError);
      socket.once('close', onClose);
      socket.once('connect', () => {
        if (settled) return;
        settled = true;
        socket.off('error', onError);
        socket.off('close', onClose);
        const protocol = negotiated(connection);
        if (protocol === 'http2') this.#http2.for(cluster, host, options).adopt(connection);
        else this.#http1.adopt(cluster, host, options, connection);
        resolve(protocol);
      });
    });
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
