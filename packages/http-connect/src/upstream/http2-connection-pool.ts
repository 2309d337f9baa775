import http2, { type ClientHttp2Session, type ClientHttp2Stream, type OutgoingHttpHeaders, type Settings } from 'node:http2';
import { HTTP2_DEFAULTS } from '@il/config/runtime';
import type { Counter, Host, Scope, UpstreamCluster, UpstreamConnection } from '@il/core';
import { Http2CodecSocket, type ConnectionWatermarks } from '../codec/http2-codec-socket.js';
import { http2StallTimeoutMs } from '../codec/http2-defaults.js';
import { startKeepalive } from '../codec/http2-keepalive.js';
import { ConnectionPoolError } from './pool-error.js';
import { PoolMap, poolKey, type PoolDialOptions } from './pool-key.js';

const MIB = 1024 * 1024;
/** Envoy's common_http_protocol_options.idle_timeout default. */
const DEFAULT_IDLE_TIMEOUT_MS = 3_600_000;
/** What a session is assumed to take before the peer's SETTINGS say otherwise (RFC 9113: unlimited). */
const PEER_MAX_CONCURRENT_STREAMS = 2_147_483_647;

export type Http2PoolDialOptions = PoolDialOptions;

export interface Http2RequestOptions {
  /** END_STREAM on the HEADERS frame (a request without a body). */
  endStream?: boolean | undefined;
  /** Cancels the request while it waits for a session; a stream already given is the caller's. */
  signal?: AbortSignal | undefined;
}

/** Counters Envoy has for HTTP/2 pools that a cluster's fixed stat set lacks. */
interface PoolCounters {
  closeNotify: Counter;
  idleTimeout: Counter;
  maxRequests: Counter;
  txStallTimeout: Counter;
  keepaliveTimeout: Counter;
}

interface Waiter {
  readonly headers: OutgoingHttpHeaders;
  readonly endStream: boolean;
  readonly resolve: (stream: ClientHttp2Stream) => void;
  readonly reject: (error: Error) => void;
  readonly cancel: () => void;
}

/** One HTTP/2 connection of a pool and what the pool knows about it. */
class PooledSession {
  /** The peer's SETTINGS arrived: streams may be opened within its limit. */
  ready = false;
  /** GOAWAY received, idle, or out of requests: takes no new streams, closes once its streams end. */
  draining = false;
  closed = false;
  goawayReceived = false;
  active = 0;
  opened = 0;
  peerMaxConcurrentStreams = PEER_MAX_CONCURRENT_STREAMS;
  failure: ConnectionPoolError | undefined;
  idleTimer: NodeJS.Timeout | undefined;
  settingsTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly session: ClientHttp2Session,
    readonly connection: UpstreamConnection,
    readonly codecSocket: Http2CodecSocket,
  ) {}
}

/**
 * HTTP/2 connections to one host of one cluster, shared by every request and tunnel to it
 * (Envoy's Http2 ConnPool): many streams per connection within the peer's
 * MAX_CONCURRENT_STREAMS, another connection when every one is full, concurrent requests
 * served by one dial, a fresh connection after GOAWAY, Envoy's flow-control windows, and idle
 * connections closed after the cluster's idle_timeout.
 */
export class Http2ConnectionPool {
  readonly cluster: UpstreamCluster;
  readonly host: Host;
  /** What every connection of this pool is dialled with (the pool's key). */
  readonly dialOptions: Http2PoolDialOptions;
  readonly #counters: PoolCounters;
  readonly #sessions = new Set<PooledSession>();
  readonly #byStream = new WeakMap<ClientHttp2Stream, PooledSession>();
  readonly #waiters: Waiter[] = [];
  readonly #streamWindow: number;
  readonly #connectionWindow: number;
  readonly #maxConcurrentStreams: number;
  readonly #maxRequestsPerSession: number;
  readonly #idleTimeoutMs: number;
  readonly #stallTimeoutMs: number;
  readonly #settings: Settings;
  #draining = false;
  #closed = false;

  constructor(cluster: UpstreamCluster, host: Host, counters: PoolCounters, dialOptions: Http2PoolDialOptions = {}) {
    this.cluster = cluster;
    this.host = host;
    this.dialOptions = dialOptions;
    this.#counters = counters;
    const h2 = cluster.http2Options;
    this.#streamWindow = h2?.initial_stream_window_size ?? HTTP2_DEFAULTS.initialStreamWindowSize;
    this.#connectionWindow = h2?.initial_connection_window_size ?? HTTP2_DEFAULTS.initialConnectionWindowSize;
    this.#maxConcurrentStreams = h2?.max_concurrent_streams ?? HTTP2_DEFAULTS.maxConcurrentStreams;
    const common = cluster.commonHttpOptions;
    this.#maxRequestsPerSession = common?.max_requests_per_connection ?? 0;
    this.#idleTimeoutMs = common?.idle_timeout.ms ?? DEFAULT_IDLE_TIMEOUT_MS;
    this.#stallTimeoutMs = http2StallTimeoutMs(h2);
    this.#settings = {
      initialWindowSize: this.#streamWindow,
      enablePush: false,
      ...(h2 === undefined ? {} : { headerTableSize: h2.hpack_table_size }),
    };
  }

  /** Open sessions, connecting and draining ones included. */
  get sessions(): number {
    return this.#sessions.size;
  }

  /**
   * A new stream. Uses a session with room if there is one; otherwise waits for one (dialling
   * if the sessions being connected cannot take every waiting request). Rejects with a
   * ConnectionPoolError: `overflow` for a spent circuit breaker, a connection failure or
   * timeout when the session it waited for did not come up.
   */
  request(headers: OutgoingHttpHeaders, options: Http2RequestOptions = {}): Promise<ClientHttp2Stream> {
    if (this.#closed) return Promise.reject(new ConnectionPoolError('local_connection_failure', 'the connection pool is closed'));
    const signal = options.signal;
    if (signal?.aborted === true) return Promise.reject(abortReason(signal));
    const { resources, stats } = this.cluster;
    if (!resources.requests.canCreate()) {
      stats.counters.upstream_rq_pending_overflow.inc();
      return Promise.reject(new ConnectionPoolError('overflow', `cluster '${this.cluster.name}': max_requests reached`));
    }
    const endStream = options.endStream === true;
    const session = this.#available();
    if (session !== undefined) {
      try {
        return Promise.resolve(this.#open(session, headers, endStream));
      } catch (error) {
        return Promise.reject(asError(error));
      }
    }
    if (!resources.pendingRequests.canCreate()) {
      stats.counters.upstream_rq_pending_overflow.inc();
      return Promise.reject(new ConnectionPoolError('overflow', `cluster '${this.cluster.name}': max_pending_requests reached`));
    }
    return new Promise<ClientHttp2Stream>((resolve, reject) => {
      const onAbort = (): void => {
        if (signal !== undefined && this.#removeWaiter(waiter)) reject(abortReason(signal));
      };
      const waiter: Waiter = {
        headers,
        endStream,
        resolve,
        reject,
        cancel: () => signal?.removeEventListener('abort', onAbort),
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.push(waiter);
      resources.pendingRequests.acquire();
      stats.counters.upstream_rq_pending_total.inc();
      stats.gauges.upstream_rq_pending_active.inc();
      this.#dialIfNeeded();
    });
  }

  /**
   * Takes a connection dialled for this pool by someone else (auto_config's ALPN probe, which found
   * h2): it becomes one of the pool's sessions, and waiting requests are served on it.
   */
  adopt(connection: UpstreamConnection): void {
    if (this.#closed) {
      connection.socket.destroy();
      return;
    }
    this.#startSession(connection);
  }

  /** The upstream connection a stream of this pool runs on (for %UPSTREAM_CONNECTION_ID% and addresses). */
  connectionOf(stream: ClientHttp2Stream): UpstreamConnection | undefined {
    return this.#byStream.get(stream)?.connection;
  }

  /** The write-buffer watermarks of the connection a stream runs on (a stream pauses its writer above them). */
  watermarksOf(stream: ClientHttp2Stream): ConnectionWatermarks | undefined {
    return this.#byStream.get(stream)?.codecSocket;
  }

  /** Takes no more idle time: idle sessions close now, busy ones once their streams end. */
  drain(): void {
    this.#draining = true;
    for (const s of this.#sessions) if (s.ready && s.active === 0) this.#retire(s);
  }

  /** Closes every session now (their streams are reset) and fails waiting requests. */
  close(): void {
    this.#closed = true;
    this.#failWaiters(new ConnectionPoolError('local_connection_failure', 'the connection pool is closed'));
    for (const s of [...this.#sessions]) {
      this.#forget(s);
      s.session.destroy();
    }
  }

  // ---- sessions ---------------------------------------------------------------------------

  #available(): PooledSession | undefined {
    for (const s of this.#sessions) {
      if (s.ready && !s.draining && !s.session.closed && s.active < Math.min(s.peerMaxConcurrentStreams, this.#maxConcurrentStreams)) return s;
    }
    return undefined;
  }

  /** Streams the sessions still connecting are expected to take. */
  #connectingCapacity(): number {
    let capacity = 0;
    const perSession = this.#maxRequestsPerSession > 0 ? Math.min(this.#maxRequestsPerSession, this.#maxConcurrentStreams) : this.#maxConcurrentStreams;
    for (const s of this.#sessions) if (!s.ready && !s.closed) capacity += perSession;
    return capacity;
  }

  #dialIfNeeded(): void {
    if (this.#waiters.length === 0 || this.#closed) return;
    const expected = this.#connectingCapacity();
    if (this.#waiters.length <= expected) return;
    const connection = this.cluster.newConnection(this.host, this.dialOptions);
    if (connection === 'overflow') {
      // Waiters a connecting session may still serve keep waiting; the others fail now.
      if (expected === 0) this.#failWaiters(new ConnectionPoolError('overflow', `cluster '${this.cluster.name}': max_connections reached`));
      return;
    }
    this.#startSession(connection);
  }

  #startSession(connection: UpstreamConnection): void {
    const socket = connection.socket;
    // The session never waits on the peer to read (see Http2CodecSocket): no tunnel on this
    // connection waits on another tunnel's reader, and two il-proxies cannot deadlock.
    const codecSocket = new Http2CodecSocket(socket, {
      highWatermarkBytes: this.cluster.config.per_connection_buffer_limit_bytes,
      stallTimeoutMs: this.#stallTimeoutMs,
      onStall: () => this.#counters.txStallTimeout.inc(),
    });
    const session = http2.connect(authorityOf(this.host), {
      createConnection: () => codecSocket,
      settings: this.#settings,
      // Node's session memory cap must leave room for a full connection window of buffered data.
      maxSessionMemory: Math.max(10, Math.ceil((2 * this.#connectionWindow) / MIB)),
    });
    startKeepalive(session, this.cluster.http2Options?.connection_keepalive, {
      lastReceivedMs: () => codecSocket.lastReceivedMs,
      onTimeout: () => this.#counters.keepaliveTimeout.inc(),
    });
    const s = new PooledSession(session, connection, codecSocket);
    this.#sessions.add(s);
    this.cluster.stats.counters.upstream_cx_http2_total.inc();

    socket.once('error', (error: NodeJS.ErrnoException) => {
      if (s.ready) return;
      s.failure = error.code === 'ETIMEDOUT' && !connection.connected
        ? new ConnectionPoolError('timeout', error.message)
        : new ConnectionPoolError('remote_connection_failure', error.message);
    });
    session.once('connect', () => {
      if (this.#connectionWindow > 65_535 && !session.destroyed) session.setLocalWindowSize(this.#connectionWindow);
    });
    // A peer that never sends SETTINGS is as good as one that never answered. (The session itself
    // is up at once: it runs on the codec socket, which queues writes while the socket connects.)
    const armSettingsTimer = (): void => {
      const timeoutMs = this.cluster.connectTimeoutMs;
      if (timeoutMs <= 0 || s.ready || s.closed) return;
      s.settingsTimer = setTimeout(() => {
        s.failure ??= new ConnectionPoolError('timeout', `no HTTP/2 SETTINGS from ${this.host.addressString} within ${timeoutMs} ms`);
        session.destroy();
      }, timeoutMs);
    };
    if (socket.connecting) socket.once('connect', armSettingsTimer);
    else armSettingsTimer();
    session.on('remoteSettings', (settings: Settings) => {
      s.peerMaxConcurrentStreams = settings.maxConcurrentStreams ?? PEER_MAX_CONCURRENT_STREAMS;
      if (!s.ready) {
        s.ready = true;
        if (s.settingsTimer !== undefined) clearTimeout(s.settingsTimer);
      }
      this.#serveWaiters();
      if (s.active === 0) this.#armIdle(s);
    });
    session.on('goaway', () => {
      // Node may report one GOAWAY more than once.
      if (s.goawayReceived) return;
      s.goawayReceived = true;
      this.#counters.closeNotify.inc();
      // Node closes the session itself once its streams end; new requests go elsewhere.
      s.draining = true;
      this.#serveWaiters();
    });
    session.on('error', (error: Error) => {
      if (!s.ready) s.failure ??= new ConnectionPoolError('remote_connection_failure', error.message);
    });
    session.once('close', () => this.#onSessionClose(s));
  }

  #onSessionClose(s: PooledSession): void {
    const wasReady = s.ready;
    this.#forget(s);
    if (this.#closed) return;
    if (!wasReady && this.#connectingCapacity() === 0) {
      // Envoy fails the pending requests of a connection that never came up; the caller retries.
      this.#failWaiters(s.failure ?? new ConnectionPoolError('remote_connection_failure', `connection to ${this.host.addressString} closed before HTTP/2 SETTINGS`));
      return;
    }
    this.#serveWaiters();
  }

  #forget(s: PooledSession): void {
    s.closed = true;
    s.draining = true;
    if (s.idleTimer !== undefined) clearTimeout(s.idleTimer);
    if (s.settingsTimer !== undefined) clearTimeout(s.settingsTimer);
    this.#sessions.delete(s);
  }

  /** Gracefully closes a session that takes no more streams (GOAWAY from us once it is idle). */
  #retire(s: PooledSession): void {
    s.draining = true;
    if (s.active === 0 && !s.session.closed) s.session.close();
  }

  #armIdle(s: PooledSession): void {
    if (s.idleTimer !== undefined) clearTimeout(s.idleTimer);
    s.idleTimer = undefined;
    if (s.draining || this.#draining) {
      this.#retire(s);
      return;
    }
    if (this.#idleTimeoutMs <= 0) return;
    s.idleTimer = setTimeout(() => {
      s.idleTimer = undefined;
      if (s.active > 0 || s.closed) return;
      this.#counters.idleTimeout.inc();
      this.#retire(s);
    }, this.#idleTimeoutMs);
    s.idleTimer.unref();
  }

  // ---- streams ----------------------------------------------------------------------------

  #serveWaiters(): void {
    while (this.#waiters.length > 0) {
      const s = this.#available();
      if (s === undefined) break;
      const waiter = this.#waiters.shift() as Waiter;
      this.#releasePending(waiter);
      if (!this.cluster.resources.requests.canCreate()) {
        this.cluster.stats.counters.upstream_rq_pending_overflow.inc();
        waiter.reject(new ConnectionPoolError('overflow', `cluster '${this.cluster.name}': max_requests reached`));
        continue;
      }
      try {
        waiter.resolve(this.#open(s, waiter.headers, waiter.endStream));
      } catch (error) {
        waiter.reject(asError(error));
      }
    }
    this.#dialIfNeeded();
  }

  #open(s: PooledSession, headers: OutgoingHttpHeaders, endStream: boolean): ClientHttp2Stream {
    const stream = s.session.request(headers, { endStream });
    this.#byStream.set(stream, s);
    s.active++;
    s.opened++;
    if (s.idleTimer !== undefined) {
      clearTimeout(s.idleTimer);
      s.idleTimer = undefined;
    }
    if (this.#maxRequestsPerSession > 0 && s.opened >= this.#maxRequestsPerSession) {
      this.#counters.maxRequests.inc();
      s.draining = true;
    }
    const { stats, resources } = this.cluster;
    stats.counters.upstream_rq_total.inc();
    stats.gauges.upstream_rq_active.inc();
    this.host.stats.rq_total++;
    this.host.stats.rq_active++;
    resources.requests.acquire();
    stream.once('close', () => {
      s.active--;
      stats.gauges.upstream_rq_active.dec();
      this.host.stats.rq_active--;
      resources.requests.release();
      if (s.closed) return;
      if (s.active === 0) this.#armIdle(s);
      this.#serveWaiters();
    });
    return stream;
  }

  #removeWaiter(waiter: Waiter): boolean {
    const index = this.#waiters.indexOf(waiter);
    if (index === -1) return false;
    this.#waiters.splice(index, 1);
    this.#releasePending(waiter);
    return true;
  }

  #releasePending(waiter: Waiter): void {
    waiter.cancel();
    this.cluster.resources.pendingRequests.release();
    this.cluster.stats.gauges.upstream_rq_pending_active.dec();
  }

  #failWaiters(error: ConnectionPoolError): void {
    for (const waiter of this.#waiters.splice(0)) {
      this.#releasePending(waiter);
      waiter.reject(error);
    }
  }
}

/**
 * Every HTTP/2 pool of a process part (Envoy keeps one per cluster and host): `for()` gives the
 * pool of a host, created on first use.
 */
export class Http2ConnectionPools {
  readonly #scope: Scope | undefined;
  readonly #pools = new PoolMap<Http2ConnectionPool>();
  #draining = false;

  /** `scope`: the root under which `cluster.<name>.` pool counters go (default: each cluster's own scope). */
  constructor(options: { scope?: Scope } = {}) {
    this.#scope = options.scope;
  }

  /** The pool of a host for connections dialled with these options (see poolKey). */
  for(cluster: UpstreamCluster, host: Host, options: Http2PoolDialOptions = {}): Http2ConnectionPool {
    return this.#pools.getOrCreate(cluster, host, poolKey(options), () => {
      const scope = this.#scope?.taggedScope('cluster', cluster.name, 'envoy_cluster_name') ?? cluster.stats.scope;
      const pool = new Http2ConnectionPool(
        cluster,
        host,
        {
          closeNotify: scope.counter('upstream_cx_close_notify'),
          idleTimeout: scope.counter('upstream_cx_idle_timeout'),
          maxRequests: scope.counter('upstream_cx_max_requests'),
          txStallTimeout: scope.counter('http2.tx_stall_timeout'),
          keepaliveTimeout: scope.counter('http2.keepalive_timeout'),
        },
        options,
      );
      if (this.#draining) pool.drain();
      return pool;
    });
  }

  /** Server drain: sessions close once idle instead of after idle_timeout. */
  drain(): void {
    this.#draining = true;
    for (const pool of this.#pools.values()) pool.drain();
  }

  close(): void {
    for (const pool of this.#pools.values()) pool.close();
    this.#pools.clear();
  }
}

/** The URL http2.connect wants; only the default :authority comes from it, the socket is ours. */
function authorityOf(host: Host): string {
  const socketAddress = host.address.socket_address;
  if (socketAddress === undefined) return 'http://localhost';
  const ip = socketAddress.address.includes(':') ? `[${socketAddress.address}]` : socketAddress.address;
  return `http://${ip}:${socketAddress.port_value}`;
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new DOMException('The request was aborted', 'AbortError');
}
