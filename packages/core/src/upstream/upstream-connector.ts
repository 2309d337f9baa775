import type { Duplex } from 'node:stream';
import { connectionAddresses, type ConnectionAddress } from '../network/connection-address.js';
import type { StreamInfo } from '../stream-info/stream-info.js';
import { connectionTlsInfo, type ConnectionTlsInfo } from '../transport-sockets/tls/tls-info.js';
import type { ConnectFailure, UpstreamCluster } from './cluster.js';
import type { Host } from './host.js';

/**
 * A byte-stream upstream (Envoy's GenericUpstream): a Duplex that emits 'connect' once it can
 * carry data (a TCP connect, or a tunnel's successful CONNECT/POST response), and fails with
 * 'error' / 'close' before that if it cannot.
 */
export interface UpstreamStream extends Duplex {
  /** Aborts: a TCP RST, or a reset of a tunnel's stream. */
  resetAndDestroy(): this;
}

/** One upstream attempt. */
export interface UpstreamHandle {
  readonly stream: UpstreamStream;
  readonly host: Host;
  readonly connectionId: number;
  /**
   * Whether a downstream close hands this upstream to a drainer that flushes what is queued
   * (plain TCP). HTTP tunnels have no drainer in Envoy (envoy-behavior.md §3.12).
   */
  readonly drainable: boolean;
  /** Addresses to report once connected. */
  addresses(): { local: ConnectionAddress; remote: ConnectionAddress } | undefined;
  /** The upstream connection's TLS, once connected over a TLS transport socket (%UPSTREAM_TLS_*%). */
  tls(): ConnectionTlsInfo | undefined;
}

export interface UpstreamRequest {
  readonly cluster: UpstreamCluster;
  /** The downstream connection's info: its filter state travels to internal listeners and into format strings. */
  readonly streamInfo: StreamInfo;
  /** Internal hops of the downstream connection. */
  readonly hops: number;
}

/** Opens byte-stream upstreams for TcpProxy: plain TCP here, HTTP CONNECT/POST tunnels in @il/http-connect. */
export interface UpstreamConnector {
  connect(request: UpstreamRequest): UpstreamHandle | ConnectFailure;
}

/** Plain TCP (or pipe, or internal listener) connections from the cluster. */
export const tcpUpstreamConnector: UpstreamConnector = {
  connect({ cluster, streamInfo, hops }) {
    const connection = cluster.connect({
      hops,
      downstreamFilterState: streamInfo.filterState,
      tcpSession: true,
      allowHalfOpen: true,
    });
    if (typeof connection === 'string') return connection;
    return {
      stream: connection.socket,
      host: connection.host,
      connectionId: connection.id,
      drainable: true,
      addresses: () => connectionAddresses(connection.socket),
      tls: () => connectionTlsInfo(connection.socket),
    };
  },
};
