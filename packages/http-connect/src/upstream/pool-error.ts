/**
 * Why a connection pool could not give a stream (Envoy's ConnectionPool::PoolFailureReason):
 * - `overflow`: a circuit breaker (connections, pending requests or requests) is spent → `UO`;
 * - `local_connection_failure` / `remote_connection_failure`: the connection could not be made
 *   or died before it was usable → `UF`;
 * - `timeout`: the connection was not up within the cluster's connect_timeout → `UF`.
 */
export type PoolFailureReason = 'overflow' | 'local_connection_failure' | 'remote_connection_failure' | 'timeout';

/** A pool request's rejection; `reason` maps to Envoy's response flags. */
export class ConnectionPoolError extends Error {
  override readonly name = 'ConnectionPoolError';

  constructor(
    readonly reason: PoolFailureReason,
    message: string,
  ) {
    super(message);
  }
}
