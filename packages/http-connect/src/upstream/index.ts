// Upstream connection pools: HTTP/2 sessions shared by the router and TcpProxy tunnels.
export {
  Http2ConnectionPools,
  Http2ConnectionPool,
  type Http2PoolDialOptions,
  type Http2RequestOptions,
} from './http2-connection-pool.js';
export { sharedHttp2ConnectionPools } from './shared-pools.js';
export { ConnectionPoolError, type PoolFailureReason } from './pool-error.js';
