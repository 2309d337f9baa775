import type { Http2ProtocolOptions } from '@il/config/runtime';

/**
 * How long bytes may wait on an HTTP/2 connection with none taken by the peer before il closes it,
 * when `connection_keepalive` does not say: ztunnel's and Istio's keepalive timeout (20 s). Envoy
 * has no such bound; il adds it so that a peer that stopped reading cannot hold a pooled
 * connection's tunnels, and the new ones put on it, for ever.
 */
export const DEFAULT_STALL_TIMEOUT_MS = 20_000;

/** The stall timeout of a connection: `connection_keepalive.timeout` when set, else the default. */
export function http2StallTimeoutMs(options: Http2ProtocolOptions | undefined): number {
  return options?.connection_keepalive?.timeout.ms ?? DEFAULT_STALL_TIMEOUT_MS;
}
