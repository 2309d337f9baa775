import type {
  AccessLogger,
  ClusterManager,
  ComponentLog,
  DetectedCloseType,
  DownstreamConnection,
  UpstreamCluster,
  UpstreamConnector,
  UpstreamHandle,
} from '@il/core';
import { JitteredBackoff } from './backoff.js';
import { FilterStateKeys } from './filter-state-keys.js';
import type { RouteSelector } from './route.js';
import type { TcpProxyStats } from './tcp-proxy-stats.js';

/** Everything a session needs from its filter's compiled config. */
export interface TcpProxySettings {
  readonly stats: TcpProxyStats;
  readonly route: RouteSelector;
  readonly clusterManager: ClusterManager;
  readonly tcpConnector: UpstreamConnector;
  /** Present when tunneling_config is set. */
  readonly tunnelConnector: UpstreamConnector | undefined;
  /** 0 disables the idle timeout. */
  readonly idleTimeoutMs: number;
  readonly maxConnectAttempts: number;
  readonly backoff: { readonly baseMs: number; readonly maxMs: number } | undefined;
  readonly maxDownstreamConnectionDurationMs: number | undefined;
  readonly maxDownstreamConnectionDurationJitterPercent: number;
  readonly accessLoggers: readonly AccessLogger[];
  readonly flushAccessLogOnConnected: boolean;
  readonly accessLogFlushIntervalMs: number | undefined;
  readonly log: ComponentLog;
}

type CloseKind = 'flush' | 'noflush' | 'reset';

/**
 * One downstream connection proxied by TcpProxy (Envoy's TcpProxy::Filter): picks a cluster,
 * connects (retrying per max_connect_attempts with backoff), then relays bytes both ways with
 * flow control, half-close, reset propagation, idle and duration timeouts, the upstream drainer
 * and access logs.
 */
export class TcpProxySession {
  readonly #settings: TcpProxySettings;
  readonly #downstream: DownstreamConnection;
  #upstream: UpstreamHandle | undefined;
  #cluster: UpstreamCluster | undefined;
  #connected = false;
  #attempts = 0;
  #backoff: JitteredBackoff | undefined;
  #downstreamClosed = false;
  #upstreamClosed = true;
  #finished = false;
  #downstreamPaused = false;
  #upstreamPaused = false;
  #draining = false;
  #lastActivityMs = 0;
  /** What this session currently adds to the *_bytes_buffered gauges. */
  #reportedRxBuffered = 0;
  #reportedTxBuffered = 0;
  #idleTimeoutMs: number;
  #idleTimer: NodeJS.Timeout | undefined;
  #durationTimer: NodeJS.Timeout | undefined;
  #periodicTimer: NodeJS.Timeout | undefined;
  #retryTimer: NodeJS.Timeout | undefined;

  constructor(settings: TcpProxySettings, downstream: DownstreamConnection) {
    this.#settings = settings;
    this.#downstream = downstream;
    this.#idleTimeoutMs = perConnectionIdleTimeout(downstream) ?? settings.idleTimeoutMs;
  }

  start(): void {
    const { socket } = this.#downstream;
    this.#settings.stats.downstream_cx_total.inc();
    // Envoy disables downstream reads until the upstream is up; bytes wait in the socket.
    socket.pause();
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ECONNRESET') this.#downstream.streamInfo.downstreamDetectedCloseType = 'RemoteReset';
    });
    socket.once('close', () => this.#onDownstreamClose());
    const maxMs = this.#settings.maxDownstreamConnectionDurationMs;
    if (maxMs !== undefined) {
      const jitter = (maxMs * this.#settings.maxDownstreamConnectionDurationJitterPercent * Math.random()) / 100;
      this.#durationTimer = setTimeout(() => this.#onMaxDuration(), maxMs + jitter);
    }
    if (this.#settings.backoff !== undefined) this.#backoff = new JitteredBackoff(this.#settings.backoff.baseMs, this.#settings.backoff.maxMs);
    this.#connect();
  }

  // ---- connecting -------------------------------------------------------------------------

  #connect(): void {
    if (this.#downstreamClosed) return;
    this.#attempts++;
    const streamInfo = this.#downstream.streamInfo;
    const clusterName = this.#settings.route.pick(streamInfo.filterState);
    const cluster = clusterName === undefined ? undefined : this.#settings.clusterManager.get(clusterName);
    if (cluster === undefined) {
      this.#settings.stats.downstream_cx_no_route.inc();
      streamInfo.setResponseFlag('NC');
      this.#closeDownstream('noflush');
      return;
    }
    this.#cluster = cluster;
    streamInfo.upstreamCluster = cluster.name;
    const tunnel = this.#settings.tunnelConnector !== undefined && streamInfo.filterState.get(FilterStateKeys.disableTunneling) !== true;
    const connector = tunnel ? (this.#settings.tunnelConnector) : this.#settings.tcpConnector;
    const result = connector.connect({ cluster, streamInfo, hops: this.#downstream.hops });
    if (result === 'overflow') {
      streamInfo.setResponseFlag('UO');
      this.#closeDownstream('noflush');
      return;
    }
    if (result === 'no_healthy_upstream') {
      streamInfo.setResponseFlag('UH');
      this.#closeDownstream('noflush');
      return;
    }
    this.#attach(result);
  }

  #attach(upstream: UpstreamHandle): void {
    this.#upstream = upstream;
    this.#upstreamClosed = false;
    const streamInfo = this.#downstream.streamInfo;
    streamInfo.upstreamHost = upstream.host.addressString;
    const { stream } = upstream;
    stream.once('connect', () => {
      if (this.#upstream === upstream) this.#onUpstreamConnected(upstream);
    });
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (this.#upstream !== upstream) return;
      if (!this.#connected) streamInfo.upstreamTransportFailureReason = error.message;
      else if (error.code === 'ECONNRESET') streamInfo.upstreamDetectedCloseType = 'RemoteReset';
    });
    stream.once('close', () => {
      if (this.#upstream === upstream) this.#onUpstreamClose(upstream);
    });
  }

  #onUpstreamConnectFailure(): void {
    const streamInfo = this.#downstream.streamInfo;
    streamInfo.setResponseFlag('UF');
    if (this.#downstreamClosed) {
      this.#maybeFinish();
      return;
    }
    if (this.#attempts < this.#settings.maxConnectAttempts) {
      const delay = this.#backoff?.nextDelayMs() ?? 0;
      this.#retryTimer = setTimeout(() => {
        this.#retryTimer = undefined;
        this.#connect();
      }, delay);
      return;
    }
    streamInfo.setResponseFlag('URX');
    this.#cluster?.stats.counters.upstream_cx_connect_attempts_exceeded.inc();
    this.#closeDownstream('noflush');
  }

  // ---- relaying ---------------------------------------------------------------------------

  #onUpstreamConnected(upstream: UpstreamHandle): void {
    if (this.#downstreamClosed) {
      upstream.stream.destroy();
      return;
    }
    this.#connected = true;
    const streamInfo = this.#downstream.streamInfo;
    streamInfo.upstreamConnectionId = upstream.connectionId;
    const addresses = upstream.addresses();
    if (addresses !== undefined) {
      streamInfo.upstreamLocalAddress = addresses.local;
      streamInfo.upstreamRemoteAddress = addresses.remote;
    }
    streamInfo.upstreamTls = upstream.tls();
    if (this.#settings.flushAccessLogOnConnected) this.#log('TcpUpstreamConnected');
    const interval = this.#settings.accessLogFlushIntervalMs;
    if (interval !== undefined) this.#periodicTimer = setInterval(() => this.#log('TcpPeriodic'), interval);

    const downstream = this.#downstream.socket;
    const stream = upstream.stream;
    const stats = this.#settings.stats;
    const clusterStats = this.#cluster?.stats.counters;
    const upstreamLimit = this.#cluster?.config.per_connection_buffer_limit_bytes ?? 1024 * 1024;
    const downstreamLimit = this.#downstream.listener.perConnectionBufferLimitBytes;

    downstream.on('data', (chunk: Buffer) => {
      this.#lastActivityMs = performance.now();
      streamInfo.bytesReceived += chunk.length;
      stats.downstream_cx_rx_bytes_total.inc(chunk.length);
      if (this.#draining || stream.destroyed) return;
      // Pause reading once the upstream side holds a buffer's worth (per_connection_buffer_limit_bytes).
      const more = stream.write(chunk);
      this.#reportBuffered();
      if (!more && stream.writableLength >= upstreamLimit && !this.#downstreamPaused) {
        this.#downstreamPaused = true;
        downstream.pause();
        stats.downstream_flow_control_paused_reading_total.inc();
      }
    });
    stream.on('drain', () => {
      this.#reportBuffered();
      if (!this.#downstreamPaused) return;
      this.#downstreamPaused = false;
      downstream.resume();
      stats.downstream_flow_control_resumed_reading_total.inc();
    });
    stream.on('data', (chunk: Buffer) => {
      if (this.#draining) {
        // A drained upstream that talks back is reset, as Envoy's drainer does.
        stream.resetAndDestroy();
        return;
      }
      this.#lastActivityMs = performance.now();
      streamInfo.bytesSent += chunk.length;
      stats.downstream_cx_tx_bytes_total.inc(chunk.length);
      if (downstream.destroyed) return;
      const more = downstream.write(chunk);
      this.#reportBuffered();
      if (!more && downstream.writableLength >= downstreamLimit && !this.#upstreamPaused) {
        this.#upstreamPaused = true;
        stream.pause();
        clusterStats?.upstream_flow_control_paused_reading_total.inc();
      }
    });
    downstream.on('drain', () => {
      this.#lastActivityMs = performance.now();
      this.#reportBuffered();
      if (!this.#upstreamPaused) return;
      this.#upstreamPaused = false;
      stream.resume();
      clusterStats?.upstream_flow_control_resumed_reading_total.inc();
    });
    // Half-close both ways: a FIN from one side becomes a FIN to the other. A paused socket still
    // reports a FIN that follows no data ('end' while connecting): it is carried through now.
    if (downstream.readableEnded) stream.end();
    else
      downstream.once('end', () => {
        if (!stream.destroyed) stream.end();
      });
    stream.once('end', () => {
      if (!downstream.destroyed) downstream.end();
    });
    this.#lastActivityMs = performance.now();
    this.#armIdleTimer();
    downstream.resume();
  }

  #onUpstreamClose(upstream: UpstreamHandle): void {
    this.#upstreamClosed = true;
    if (!this.#connected) {
      this.#onUpstreamConnectFailure();
      return;
    }
    const streamInfo = this.#downstream.streamInfo;
    streamInfo.upstreamDetectedCloseType ??= upstream.stream.errored === null ? 'Normal' : 'RemoteReset';
    if (this.#draining) {
      this.#settings.stats.upstream_flush_active.dec();
    } else if (!this.#downstreamClosed) {
      // An upstream reset reaches the client as a reset; a close, after what was sent is flushed.
      this.#closeDownstream(streamInfo.upstreamDetectedCloseType === 'RemoteReset' ? 'reset' : 'flush');
    }
    this.#maybeFinish();
  }

  #onDownstreamClose(): void {
    this.#downstreamClosed = true;
    const streamInfo = this.#downstream.streamInfo;
    streamInfo.downstreamDetectedCloseType ??= 'Normal';
    if (this.#retryTimer !== undefined) clearTimeout(this.#retryTimer);
    const upstream = this.#upstream;
    if (upstream === undefined || this.#upstreamClosed) {
      this.#maybeFinish();
      return;
    }
    const stream = upstream.stream;
    if (!this.#connected) {
      // Still connecting: cancel the attempt.
      stream.destroy();
    } else if (streamInfo.downstreamDetectedCloseType === 'RemoteReset') {
      // RST propagation (envoy-behavior.md §7.4 DownstreamRstPropagation).
      stream.resetAndDestroy();
    } else if (upstream.drainable && stream.writableLength > 0 && !stream.destroyed) {
      // The drainer: flush what the client sent before it went away, then close.
      this.#draining = true;
      this.#settings.stats.upstream_flush_total.inc();
      this.#settings.stats.upstream_flush_active.inc();
      if (this.#upstreamPaused) stream.resume();
      stream.end();
    } else if (upstream.drainable) {
      stream.destroy();
    } else {
      // A tunnel's stream is reset unless both halves had already closed (§3.11): RST_STREAM on
      // HTTP/2, the connection closed on HTTP/1.1 (a TCP RST only for a client's RST, above).
      stream.destroy();
    }
    this.#maybeFinish();
  }

  // ---- timeouts ---------------------------------------------------------------------------

  #armIdleTimer(): void {
    if (this.#idleTimeoutMs <= 0) return;
    const wait = Math.max(1, this.#lastActivityMs + this.#idleTimeoutMs - performance.now());
    this.#idleTimer = setTimeout(() => {
      this.#idleTimer = undefined;
      if (this.#finished) return;
      if (performance.now() - this.#lastActivityMs >= this.#idleTimeoutMs - 1) {
        this.#settings.stats.idle_timeout.inc();
        this.#settings.log('debug', `[C${this.#downstream.streamInfo.connectionId}] idle timeout`);
        this.#closeDownstream('noflush');
      } else {
        this.#armIdleTimer();
      }
    }, wait);
  }

  #onMaxDuration(): void {
    this.#durationTimer = undefined;
    if (this.#finished) return;
    this.#settings.stats.max_downstream_connection_duration.inc();
    this.#downstream.streamInfo.setResponseFlag('DT');
    this.#closeDownstream('noflush');
  }

  // ---- closing ----------------------------------------------------------------------------

  #closeDownstream(kind: CloseKind): void {
    const socket = this.#downstream.socket;
    if (socket.destroyed) return;
    const streamInfo = this.#downstream.streamInfo;
    if (kind === 'reset') {
      streamInfo.downstreamDetectedCloseType = 'LocalReset' satisfies DetectedCloseType;
      socket.resetAndDestroy();
    } else if (kind === 'flush') {
      socket.destroySoon();
    } else {
      socket.destroy();
    }
  }

  #maybeFinish(): void {
    if (this.#finished || !this.#downstreamClosed || !this.#upstreamClosed) return;
    this.#finished = true;
    for (const timer of [this.#idleTimer, this.#durationTimer, this.#retryTimer]) if (timer !== undefined) clearTimeout(timer);
    if (this.#periodicTimer !== undefined) clearInterval(this.#periodicTimer);
    this.#downstream.streamInfo.finish();
    this.#settings.stats.downstream_cx_rx_bytes_buffered.dec(this.#reportedRxBuffered);
    this.#settings.stats.downstream_cx_tx_bytes_buffered.dec(this.#reportedTxBuffered);
    this.#reportedRxBuffered = 0;
    this.#reportedTxBuffered = 0;
    this.#log('TcpConnectionEnd');
  }

  /**
   * Keeps Envoy's gauges current: bytes read from the downstream that wait to go upstream
   * (rx_bytes_buffered) and bytes from the upstream that wait to reach the downstream
   * (tx_bytes_buffered). Both stay bounded by the buffer limits plus one chunk.
   */
  #reportBuffered(): void {
    const stats = this.#settings.stats;
    const rx = this.#upstream?.stream.writableLength ?? 0;
    const tx = this.#downstream.socket.writableLength;
    if (rx !== this.#reportedRxBuffered) {
      stats.downstream_cx_rx_bytes_buffered.inc(rx - this.#reportedRxBuffered);
      this.#reportedRxBuffered = rx;
    }
    if (tx !== this.#reportedTxBuffered) {
      stats.downstream_cx_tx_bytes_buffered.inc(tx - this.#reportedTxBuffered);
      this.#reportedTxBuffered = tx;
    }
  }

  #log(type: string): void {
    for (const logger of this.#settings.accessLoggers) logger.log({ streamInfo: this.#downstream.streamInfo, accessLogType: type });
  }
}

/** The `envoy.tcp_proxy.per_connection_idle_timeout_ms` filter-state override, if any. */
function perConnectionIdleTimeout(connection: DownstreamConnection): number | undefined {
  const value = connection.streamInfo.filterState.get(FilterStateKeys.perConnectionIdleTimeoutMs);
  const ms = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : NaN;
  return Number.isFinite(ms) && ms >= 0 ? ms : undefined;
}
