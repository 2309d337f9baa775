import type { ConnectionAddress, ConnectionTlsInfo, HeaderMap, Host, UpstreamCluster, UpstreamConnection } from '@il/core';
import { connectFailureReason, type ResetReason } from '../hcm/local-reply.js';

/** What an upstream request reports to the router (Envoy's UpstreamToDownstream callbacks). */
export interface UpstreamCallbacks {
  /** The connection the request went out on, for %UPSTREAM_CONNECTION_ID% and the upstream addresses. */
  onUpstreamConnection(info: { connectionId: number; local: ConnectionAddress | undefined; remote: ConnectionAddress | undefined; tls: ConnectionTlsInfo | undefined }): void;
  /** Response headers (final ones; 1xx are not reported). `endStream`: no body follows. */
  onUpstreamHeaders(status: number, headers: HeaderMap, endStream: boolean): void;
  /** Response payload. Return false to stop the flow until `resumeResponse()`. */
  onUpstreamData(chunk: Buffer): boolean;
  /** The response is complete (END_STREAM, or FIN for a TCP upstream). */
  onUpstreamEnd(trailers: HeaderMap | undefined): void;
  /** The upstream failed or went away before the response was complete. */
  onUpstreamReset(reason: ResetReason, transportFailureReason: string | undefined): void;
  /** The request side can take more payload again. */
  onUpstreamRequestDrain(): void;
}

/** One request to an upstream host, whatever the protocol (Envoy's GenericUpstream). */
export interface UpstreamRequest {
  /** Request payload; false means wait for onUpstreamRequestDrain. */
  write(chunk: Buffer): boolean;
  /** END_STREAM (or FIN for a TCP upstream). */
  end(): void;
  /** Lets response data flow again after onUpstreamData returned false. */
  resumeResponse(): void;
  /**
   * Aborts; no callbacks follow. `downstreamReset`: the client reset its stream (RST_STREAM, or
   * its connection went away), which a raw TCP upstream passes on as a TCP RST.
   */
  reset(cause?: 'downstreamReset'): void;
}

/** What kind of address a host has, for Envoy's connect failure wording. */
export function addressKind(host: Host): 'ip' | 'pipe' | 'internal' {
  if (host.address.envoy_internal_address !== undefined) return 'internal';
  if (host.address.pipe !== undefined) return 'pipe';
  return 'ip';
}

/**
 * A connection attempt that failed before it could carry the request, with the reset reason and
 * transport failure reason Envoy would report (`connection failure` + `delayed connect error: 111`,
 * `connection timeout`, `overflow`).
 */
export class UpstreamConnectError extends Error {
  // Not one of undici's retryable codes (UND_ERR_SOCKET, UND_ERR_INFO): the request fails.
  readonly code = 'IL_UPSTREAM_CONNECT_FAILURE';

  constructor(
    readonly reason: ResetReason,
    readonly transportFailureReason: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'UpstreamConnectError';
  }

  static fromSocketError(error: NodeJS.ErrnoException, host: Host, connected: boolean): UpstreamConnectError {
    if (error.code === 'ETIMEDOUT' && !connected) return new UpstreamConnectError('connection timeout', undefined, error.message);
    return new UpstreamConnectError('connection failure', connectFailureReason(error, addressKind(host)), error.message);
  }
}

/** The connect failure of a cluster whose max_connections circuit breaker is open. */
export function connectionOverflow(cluster: UpstreamCluster): UpstreamConnectError {
  return new UpstreamConnectError('overflow', undefined, `cluster '${cluster.name}': max_connections reached`);
}

/**
 * Resolves once a new connection is usable ('connect': TCP up, and TLS verified when the
 * cluster has it); rejects with Envoy's connect failure when it errs or closes first.
 */
export function connectionEstablished(connection: UpstreamConnection, host: Host): Promise<void> {
  const socket = connection.socket;
  return new Promise((resolve, reject) => {
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
      resolve();
    });
  });
}

/**
 * Counts one request against a cluster and host as Envoy's pools do (upstream_rq_total,
 * upstream_rq_active, the max_requests circuit breaker, host rq_active for LEAST_REQUEST).
 * Returns the release function, or undefined when the circuit breaker is open.
 */
export function trackUpstreamRequest(cluster: UpstreamCluster, host: Host): (() => void) | undefined {
  const { resources, stats } = cluster;
  if (!resources.requests.canCreate()) {
    stats.counters.upstream_rq_pending_overflow.inc();
    return undefined;
  }
  resources.requests.acquire();
  stats.counters.upstream_rq_total.inc();
  stats.gauges.upstream_rq_active.inc();
  host.stats.rq_total++;
  host.stats.rq_active++;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    resources.requests.release();
    stats.gauges.upstream_rq_active.dec();
    host.stats.rq_active--;
  };
}
