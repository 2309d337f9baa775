import type { IncomingHttpHeaders } from 'node:http';
import type { ConnectionAddress } from '../network/connection-address.js';
import { FilterState, type DynamicMetadata } from './filter-state.js';
import type { ConnectionTlsInfo } from '../transport-sockets/tls/tls-info.js';

/**
 * Envoy's response flags: why a request or connection ended the way it did. Short names are
 * what `%RESPONSE_FLAGS%` prints; long names are `%RESPONSE_FLAGS_LONG%`.
 */
export const RESPONSE_FLAGS = {
  FailedLocalHealthCheck: 'LH',
  NoHealthyUpstream: 'UH',
  UpstreamRequestTimeout: 'UT',
  LocalReset: 'LR',
  UpstreamRemoteReset: 'UR',
  UpstreamConnectionFailure: 'UF',
  UpstreamConnectionTermination: 'UC',
  UpstreamOverflow: 'UO',
  NoRouteFound: 'NR',
  DelayInjected: 'DI',
  FaultInjected: 'FI',
  RateLimited: 'RL',
  UnauthorizedExternalService: 'UAEX',
  RateLimitServiceError: 'RLSE',
  DownstreamConnectionTermination: 'DC',
  UpstreamRetryLimitExceeded: 'URX',
  StreamIdleTimeout: 'SI',
  InvalidEnvoyRequestHeaders: 'IH',
  DownstreamProtocolError: 'DPE',
  UpstreamMaxStreamDurationReached: 'UMSDR',
  ResponseFromCacheFilter: 'RFCF',
  NoFilterConfigFound: 'NFCF',
  DurationTimeout: 'DT',
  UpstreamProtocolError: 'UPE',
  NoClusterFound: 'NC',
  OverloadManager: 'OM',
  DnsResolutionFailed: 'DF',
  DropOverLoad: 'DO',
  DownstreamRemoteReset: 'DR',
} as const;

export type ResponseFlagName = keyof typeof RESPONSE_FLAGS;
export type ResponseFlag = (typeof RESPONSE_FLAGS)[ResponseFlagName];

/** How a side of a connection was seen to close (`%DOWNSTREAM_DETECTED_CLOSE_TYPE%`). */
export type DetectedCloseType = 'Normal' | 'LocalReset' | 'RemoteReset';

/** HTTP header maps as Node gives them (lower-case names, HTTP/2 pseudo-headers included). */
export type HeaderMap = IncomingHttpHeaders & Record<string, string | string[] | undefined>;

let nextConnectionId = 1;

/** A process-wide connection id, as Envoy's `%CONNECTION_ID%` (every downstream and upstream connection gets one). */
export function allocateConnectionId(): number {
  return nextConnectionId++;
}

/**
 * What a connection (TcpProxy) or a request (HCM) did: timing, addresses, bytes, the upstream it
 * used, why it ended, and the filter state and metadata filters published. Access logs and
 * format strings (`%UPSTREAM_HOST%`, `%RESPONSE_FLAGS%`...) read it.
 */
export class StreamInfo {
  readonly startTime: Date;
  /** Monotonic start, in ms (performance.now()). */
  readonly startMonotonicMs: number;
  endMonotonicMs: number | undefined;

  // Downstream connection.
  connectionId: number | undefined;
  downstreamLocalAddress: ConnectionAddress | undefined;
  downstreamRemoteAddress: ConnectionAddress | undefined;
  /** The peer's address as seen on the socket, before any x-forwarded-for or PROXY handling. */
  downstreamDirectRemoteAddress: ConnectionAddress | undefined;
  requestedServerName: string | undefined;
  /** Set when the downstream connection is TLS (its transport socket's handshake completed). */
  downstreamTls: ConnectionTlsInfo | undefined;
  downstreamDetectedCloseType: DetectedCloseType | undefined;

  // Upstream.
  upstreamCluster: string | undefined;
  /** The chosen host's address string (`%UPSTREAM_HOST%`). */
  upstreamHost: string | undefined;
  upstreamLocalAddress: ConnectionAddress | undefined;
  upstreamRemoteAddress: ConnectionAddress | undefined;
  upstreamConnectionId: number | undefined;
  upstreamTransportFailureReason: string | undefined;
  upstreamDetectedCloseType: DetectedCloseType | undefined;
  /** Set when the upstream connection is TLS. */
  upstreamTls: ConnectionTlsInfo | undefined;
  upstreamHeaderBytesSent = 0;
  upstreamHeaderBytesReceived = 0;

  // Bytes of payload (body or TCP data) received from and sent to the downstream.
  bytesReceived = 0;
  bytesSent = 0;
  /** Bytes on the downstream wire including headers, when a filter counts them. */
  downstreamWireBytesReceived = 0;
  downstreamWireBytesSent = 0;

  // HTTP.
  protocol: string | undefined;
  responseCode: number | undefined;
  responseCodeDetails: string | undefined;
  routeName: string | undefined;
  virtualClusterName: string | undefined;
  requestHeaders: HeaderMap | undefined;
  responseHeaders: HeaderMap | undefined;
  responseTrailers: HeaderMap | undefined;
  /** Timing points as monotonic ms, for %REQUEST_DURATION%, %RESPONSE_DURATION% and friends. */
  lastDownstreamRxByteMonotonicMs: number | undefined;
  firstUpstreamRxByteMonotonicMs: number | undefined;
  lastDownstreamTxByteMonotonicMs: number | undefined;

  connectionTerminationDetails: string | undefined;
  readonly responseFlags = new Set<ResponseFlag>();
  readonly filterState: FilterState;
  readonly dynamicMetadata: DynamicMetadata;

  constructor(options: { filterState?: FilterState; dynamicMetadata?: DynamicMetadata; startTime?: Date } = {}) {
    this.startTime = options.startTime ?? new Date();
    this.startMonotonicMs = performance.now();
    this.endMonotonicMs = undefined;
    this.filterState = options.filterState ?? new FilterState();
    this.dynamicMetadata = options.dynamicMetadata ?? {};
    this.connectionId = undefined;
    this.downstreamLocalAddress = undefined;
    this.downstreamRemoteAddress = undefined;
    this.downstreamDirectRemoteAddress = undefined;
    this.requestedServerName = undefined;
    this.downstreamTls = undefined;
    this.downstreamDetectedCloseType = undefined;
    this.upstreamCluster = undefined;
    this.upstreamHost = undefined;
    this.upstreamLocalAddress = undefined;
    this.upstreamRemoteAddress = undefined;
    this.upstreamConnectionId = undefined;
    this.upstreamTransportFailureReason = undefined;
    this.upstreamDetectedCloseType = undefined;
    this.upstreamTls = undefined;
    this.protocol = undefined;
    this.responseCode = undefined;
    this.responseCodeDetails = undefined;
    this.routeName = undefined;
    this.virtualClusterName = undefined;
    this.requestHeaders = undefined;
    this.responseHeaders = undefined;
    this.responseTrailers = undefined;
    this.lastDownstreamRxByteMonotonicMs = undefined;
    this.firstUpstreamRxByteMonotonicMs = undefined;
    this.lastDownstreamTxByteMonotonicMs = undefined;
    this.connectionTerminationDetails = undefined;
  }

  setResponseFlag(flag: ResponseFlag): void {
    this.responseFlags.add(flag);
  }

  hasResponseFlag(flag: ResponseFlag): boolean {
    return this.responseFlags.has(flag);
  }

  /** Marks the end of the stream (idempotent). */
  finish(): void {
    this.endMonotonicMs ??= performance.now();
  }

  /** Milliseconds from start to end, or to now if the stream has not ended. */
  durationMs(): number {
    return (this.endMonotonicMs ?? performance.now()) - this.startMonotonicMs;
  }
}
