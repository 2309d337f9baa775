import type { ClusterManager, DrainManager } from '@il/core';
import { Http2ConnectionPools } from './http2-connection-pool.js';

const shared = new WeakMap<ClusterManager, Http2ConnectionPools>();

/**
 * The HTTP/2 pools of one runtime, shared by everything that sends to its clusters (TcpProxy
 * tunnels, the router), as Envoy's cluster manager owns one pool per cluster and host. When the
 * runtime starts draining, idle sessions close instead of waiting for their idle timeout.
 */
export function sharedHttp2ConnectionPools(context: { readonly clusterManager: ClusterManager; readonly drain: DrainManager }): Http2ConnectionPools {
  let pools = shared.get(context.clusterManager);
  if (pools === undefined) {
    const created = new Http2ConnectionPools();
    shared.set(context.clusterManager, created);
    if (context.drain.draining) created.drain();
    else context.drain.once('drain', () => created.drain());
    pools = created;
  }
  return pools;
}
