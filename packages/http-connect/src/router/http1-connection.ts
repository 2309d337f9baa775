import { connectionAddresses, type ConnectionAddress, type ConnectionSocket, type FilterState, type Host, type UpstreamCluster, type UpstreamConnection } from '@il/core';
import type { ResetReason } from '../hcm/local-reply.js';
import { HTTPParser, type HttpParseError, type HttpParser } from './http-parser.js';
import { UpstreamConnectError } from './upstream.js';

/** Envoy's default max_response_headers_kb (60 KiB) for upstream responses. */
const MAX_RESPONSE_HEADER_BYTES = 60 * 1024;
/** A server's `keep-alive: timeout=N` hint, less this margin, bounds how long its connection idles here (as undici does). */
const KEEP_ALIVE_HINT_MARGIN_MS = 2000;
const KEEP_ALIVE_TIMEOUT = /timeout=(\d+)/;

/** What a connection reports to the request it carries (Http1Upstream). */
export interface Http1Exchange {
  /** The connection the request was given (the pool may have had to queue it). */
  onConnection(connection: Http1Connection): void;
  /** The final response head (1xx responses are skipped), header pairs as received. */
  onResponseHead(status: number, headers: string[]): void;
  onResponseBody(chunk: Buffer): void;
  /** The response is complete; `trailers` are the pairs after a chunked body, if any. */
  onResponseEnd(trailers: string[] | undefined): void;
  /** A CONNECT's answer: from here the socket is a raw byte stream; `rest` arrived after the head. */
  onTunnel(status: number, headers: string[], socket: ConnectionSocket, rest: Buffer): void;
  /** The request failed before its response was complete. */
  onFailure(reason: ResetReason, transportFailureReason: string | undefined): void;
  /** The connection can take more request payload. */
  onWritable(): void;
}

/** Request framing on the wire: chunked when the length is unknown. */
export type Http1BodyFraming = 'none' | 'length' | 'chunked';

const CHUNK_END = Buffer.from('\r\n', 'latin1');
const LAST_CHUNK = '0\r\n\r\n';

/**
 * One upstream HTTP/1.1 connection (Envoy's Http1 CodecClient): writes one request at a time
 * and parses responses with node's HTTP parser. Between requests it sits in its pool; it is
 * closed instead when the response or the request says so (`connection: close`, HTTP/1.0, a HEAD
 * or CONNECT request, a request cut short, max_requests_per_connection).
 */
export class Http1Connection {
  readonly upstream: UpstreamConnection;
  readonly socket: ConnectionSocket;
  requests = 0;
  /** While idle: when it closes (performance.now() ms). */
  idleDeadlineMs = 0;
  /** A server's keep-alive hint (ms), when it gave one. */
  keepAliveHintMs: number | undefined;
  readonly #pool: Http1ConnectionPool;
  readonly #parser: HttpParser;
  #exchange: Http1Exchange | undefined;
  #connected = false;
  #closed = false;
  #executing = false;
  #error: Error | undefined;
  #addresses: { local: ConnectionAddress; remote: ConnectionAddress } | undefined;
  // The current exchange.
  #reusable = true;
  #isHead = false;
  #isConnect = false;
  #chunked = false;
  #requestEnded = false;
  #responseEnded = false;
  /** 0 until a final response head arrives; a 1xx status while an informational response is parsed. */
  #status = 0;
  #tunnelHeaders: string[] | undefined;
  /** Header or trailer pairs the parser handed over before the head (or the message) was complete. */
  #pendingPairs: string[] | undefined;

  constructor(pool: Http1ConnectionPool, upstream: UpstreamConnection) {
    this.#pool = pool;
    this.upstream = upstream;
    const socket = upstream.socket;
    this.socket = socket;
    socket.setNoDelay(true);
    const parser = new HTTPParser();
    parser.initialize(HTTPParser.RESPONSE, {}, MAX_RESPONSE_HEADER_BYTES, 0);
    parser[HTTPParser.kOnHeaders] = (pairs: string[]) => this.#onPairs(pairs);
    parser[HTTPParser.kOnHeadersComplete] = (
      _major: number,
      _minor: number,
      headers: string[] | undefined,
      _method: unknown,
      _url: unknown,
      status: number,
      _message: unknown,
      _upgrade: boolean,
      keepAlive: boolean,
    ): number => this.#onHead(headers, status, keepAlive);
    parser[HTTPParser.kOnBody] = (chunk: Buffer) => this.#exchange?.onResponseBody(chunk);
    parser[HTTPParser.kOnMessageComplete] = () => this.#onMessageComplete();
    this.#parser = parser;
    socket.on('data', this.#onData);
    socket.on('drain', this.#onDrain);
    socket.on('error', (error: Error) => {
      this.#error ??= error;
    });
    socket.once('connect', () => this.#onConnect());
    socket.once('end', this.#onEnd);
    socket.once('close', () => this.#onClose());
  }

  get connected(): boolean {
    return this.#connected;
  }

  /** The connection's addresses, read once (%UPSTREAM_LOCAL_ADDRESS% and friends). */
  get addresses(): { local: ConnectionAddress; remote: ConnectionAddress } {
    this.#addresses ??= connectionAddresses(this.socket);
    return this.#addresses;
  }

  /** Starts a request: the head goes out now (queued by the socket until it is connected). */
  send(exchange: Http1Exchange, head: string, method: string, framing: Http1BodyFraming): void {
    this.#exchange = exchange;
    if (this.#connected) exchange.onConnection(this);
    this.requests++;
    this.#isHead = method === 'HEAD';
    this.#isConnect = method === 'CONNECT';
    this.#reusable = !this.#isHead && !this.#isConnect;
    this.#chunked = framing === 'chunked';
    this.#requestEnded = framing === 'none' && !this.#isConnect;
    this.#responseEnded = false;
    this.#status = 0;
    this.socket.write(head, 'latin1');
  }

  /** Request payload; false when the socket's buffer is full (wait for onWritable). */
  writeBody(chunk: Buffer): boolean {
    if (chunk.length === 0) return true;
    const socket = this.socket;
    if (!this.#chunked) return socket.write(chunk);
    socket.cork();
    socket.write(`${chunk.length.toString(16)}\r\n`, 'latin1');
    socket.write(chunk);
    const more = socket.write(CHUNK_END);
    socket.uncork();
    return more;
  }

  /** The request is complete. */
  endBody(): void {
    if (this.#requestEnded) return;
    this.#requestEnded = true;
    if (this.#chunked) this.socket.write(LAST_CHUNK, 'latin1');
    this.#maybeDone();
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  /** The request is abandoned mid-way: nothing else can be read or sent on this connection. */
  abort(exchange: Http1Exchange): void {
    if (this.#exchange !== exchange) return;
    this.#exchange = undefined;
    this.destroy();
  }

  destroy(): void {
    if (!this.socket.destroyed) this.socket.destroy();
  }

  // ---- socket and parser events ----------------------------------------------------------

  #onConnect(): void {
    this.#connected = true;
    const exchange = this.#exchange;
    if (exchange !== undefined) exchange.onConnection(this);
  }

  readonly #onDrain = (): void => this.#exchange?.onWritable();

  readonly #onData = (data: Buffer): void => {
    this.#executing = true;
    let result: number | HttpParseError;
    try {
      result = this.#parser.execute(data);
    } finally {
      this.#executing = false;
    }
    if (typeof result !== 'number') {
      this.#fail('protocol error', undefined);
      this.destroy();
      return;
    }
    const tunnelHeaders = this.#tunnelHeaders;
    if (tunnelHeaders === undefined) return;
    // A CONNECT answered: the socket leaves the pool and the parser (undici's onUpgrade).
    this.#tunnelHeaders = undefined;
    const exchange = this.#exchange;
    this.#exchange = undefined;
    this.#pool.detach(this);
    const socket = this.socket;
    socket.off('data', this.#onData);
    socket.off('drain', this.#onDrain);
    socket.off('end', this.#onEnd);
    socket.pause();
    if (exchange === undefined) socket.destroy();
    else exchange.onTunnel(this.#status, tunnelHeaders, socket, data.subarray(result));
  };

  #onPairs(pairs: string[]): void {
    const pending = (this.#pendingPairs ??= []);
    for (const item of pairs) pending.push(item);
  }

  #onHead(received: string[] | undefined, status: number, keepAlive: boolean): number {
    let headers = received ?? [];
    const pending = this.#pendingPairs;
    if (pending !== undefined) {
      this.#pendingPairs = undefined;
      for (const item of headers) pending.push(item);
      headers = pending;
    }
    const exchange = this.#exchange;
    if (exchange === undefined || this.#status >= 200) {
      // A response nobody asked for: the server is broken, the connection unusable.
      this.#reusable = false;
      this.destroy();
      return 1;
    }
    this.#status = status;
    if (this.#isConnect) {
      this.#tunnelHeaders = headers;
      return 2;
    }
    // 1xx: skipped, the final response follows (Envoy does not proxy 100-continue from upstream).
    if (status < 200) return 1;
    if (!keepAlive) this.#reusable = false;
    else this.#readKeepAliveHint(headers);
    exchange.onResponseHead(status, headers);
    return this.#isHead ? 1 : 0;
  }

  #readKeepAliveHint(headers: string[]): void {
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i] as string;
      if (name.length !== 10 || name.toLowerCase() !== 'keep-alive') continue;
      const seconds = KEEP_ALIVE_TIMEOUT.exec(headers[i + 1] as string)?.[1];
      if (seconds === undefined) return;
      const hintMs = Number(seconds) * 1000 - KEEP_ALIVE_HINT_MARGIN_MS;
      if (hintMs <= 0) this.#reusable = false;
      else this.keepAliveHintMs = hintMs;
      return;
    }
  }

  #onMessageComplete(): void {
    if (this.#status < 200) {
      // The end of an informational response.
      this.#status = 0;
      return;
    }
    if (this.#isConnect) return;
    const trailers = this.#pendingPairs;
    this.#pendingPairs = undefined;
    this.#responseEnded = true;
    const exchange = this.#exchange;
    if (exchange !== undefined) exchange.onResponseEnd(trailers);
    this.#maybeDone();
  }

  /** Both directions are complete: back to the pool, or closed. */
  #maybeDone(): void {
    if (!this.#responseEnded || !this.#requestEnded || this.#exchange === undefined) return;
    this.#exchange = undefined;
    if (this.#reusable && !this.#closed && !this.socket.destroyed) this.#pool.release(this);
    else this.destroy();
  }

  readonly #onEnd = (): void => {
    // The server closed: a response delimited by the close completes now, any other is cut short.
    if (this.#exchange !== undefined && this.#status >= 200 && !this.#executing) {
      this.#reusable = false;
      if (this.#parser.finish() !== undefined) this.#fail('connection termination', undefined);
    }
    this.destroy();
  };

  #onClose(): void {
    this.#closed = true;
    this.#pool.detach(this);
    if (this.#exchange !== undefined) {
      if (!this.#connected) {
        const error = (this.#error as NodeJS.ErrnoException | undefined) ?? Object.assign(new Error('connection closed before it was established'), { code: 'ECONNRESET' });
        const failure = UpstreamConnectError.fromSocketError(error, this.upstream.host, false);
        this.#fail(failure.reason, failure.transportFailureReason);
      } else {
        this.#fail('connection termination', undefined);
      }
    }
    if (!this.#executing) this.#parser.close();
    else setImmediate(() => this.#parser.close());
  }

  #fail(reason: ResetReason, transportFailureReason: string | undefined): void {
    const exchange = this.#exchange;
    if (exchange === undefined) return;
    this.#exchange = undefined;
    this.#reusable = false;
    exchange.onFailure(reason, transportFailureReason);
  }
}

export interface Http1PoolOptions {
  /** Internal hops of the downstream connection (a pool per hop count: internal listeners bound the depth). */
  hops: number;
  /** Its filter state: shared objects ride along to internal listeners, so they key the pool as in Envoy. */
  downstreamFilterState: FilterState | undefined;
}

/** A request waiting for a connection. */
export interface Http1PendingRequest {
  /** A connection for it: write the request now. */
  attach(connection: Http1Connection): void;
  /** No connection could be opened for it. */
  fail(reason: ResetReason, transportFailureReason: string | undefined): void;
}

/**
 * The HTTP/1.1 connections to one host for one pool key (Envoy's Http1 ConnPoolImpl): reuses idle
 * connections (most recently used first), opens new ones up to the cluster's max_connections
 * through `cluster.newConnection` (so internal hosts go through the internal listener registry and
 * every connection is counted), queues requests beyond that, and closes connections that idled
 * for the cluster's idle_timeout (or the server's keep-alive hint, whichever is shorter).
 */
export class Http1ConnectionPool {
  readonly #cluster: UpstreamCluster;
  readonly #host: Host;
  readonly #options: Http1PoolOptions;
  readonly #maxConnections: number;
  readonly #idleTimeoutMs: number;
  readonly #maxRequestsPerConnection: number;
  readonly #connections = new Set<Http1Connection>();
  readonly #idle: Http1Connection[] = [];
  readonly #queue: Http1PendingRequest[] = [];
  #idleTimer: NodeJS.Timeout | undefined;
  #closing = false;

  constructor(cluster: UpstreamCluster, host: Host, options: Http1PoolOptions, settings: { idleTimeoutMs: number; maxRequestsPerConnection: number }) {
    this.#cluster = cluster;
    this.#host = host;
    this.#options = options;
    this.#maxConnections = cluster.resources.connections.max;
    this.#idleTimeoutMs = settings.idleTimeoutMs;
    this.#maxRequestsPerConnection = settings.maxRequestsPerConnection;
  }

  get host(): Host {
    return this.#host;
  }

  /** Gives `request` a connection now, or when one frees up. */
  request(request: Http1PendingRequest): void {
    let idle = this.#idle.pop();
    // A connection closing (its 'close' not yet emitted) is not idle.
    while (idle?.socket.destroyed === true) idle = this.#idle.pop();
    if (idle !== undefined) {
      request.attach(idle);
      return;
    }
    if (this.#connections.size >= this.#maxConnections) {
      this.#queue.push(request);
      return;
    }
    this.#open(request);
  }

  /** A queued request gave up. */
  cancel(request: Http1PendingRequest): void {
    const index = this.#queue.indexOf(request);
    if (index >= 0) this.#queue.splice(index, 1);
  }

  /** A connection finished its request and can take another. */
  release(connection: Http1Connection): void {
    const max = this.#maxRequestsPerConnection;
    if (this.#closing || (max > 0 && connection.requests >= max)) {
      connection.destroy();
      return;
    }
    const next = this.#queue.shift();
    if (next !== undefined) {
      next.attach(connection);
      return;
    }
    const hint = connection.keepAliveHintMs;
    connection.idleDeadlineMs = performance.now() + (hint !== undefined && hint < this.#idleTimeoutMs ? hint : this.#idleTimeoutMs);
    this.#idle.push(connection);
    if (this.#idleTimer === undefined) this.#armIdleTimer(connection.idleDeadlineMs);
  }

  /** A connection closed or became a tunnel: it is no longer the pool's. */
  detach(connection: Http1Connection): void {
    if (!this.#connections.delete(connection)) return;
    const index = this.#idle.indexOf(connection);
    if (index >= 0) this.#idle.splice(index, 1);
    // A queued request takes the freed slot.
    const next = this.#queue.shift();
    if (next !== undefined) this.#open(next);
  }

  /** Server drain: idle connections close now, busy ones after their request. */
  drain(): void {
    this.#closing = true;
    for (const connection of this.#idle.splice(0)) connection.destroy();
    this.#clearIdleTimer();
  }

  close(): void {
    this.#closing = true;
    this.#clearIdleTimer();
    for (const connection of [...this.#connections]) connection.destroy();
  }

  #open(request: Http1PendingRequest): void {
    const cluster = this.#cluster;
    const upstream = cluster.newConnection(this.#host, { hops: this.#options.hops, downstreamFilterState: this.#options.downstreamFilterState });
    if (upstream === 'overflow') {
      request.fail('overflow', undefined);
      return;
    }
    const connection = new Http1Connection(this, upstream);
    this.#connections.add(connection);
    request.attach(connection);
  }

  #armIdleTimer(deadlineMs: number): void {
    this.#idleTimer = setTimeout(() => this.#closeExpired(), Math.max(1, deadlineMs - performance.now()));
    this.#idleTimer.unref();
  }

  #clearIdleTimer(): void {
    if (this.#idleTimer !== undefined) clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
  }

  #closeExpired(): void {
    this.#idleTimer = undefined;
    const now = performance.now();
    let next = Infinity;
    for (const connection of [...this.#idle]) {
      if (connection.idleDeadlineMs <= now) connection.destroy();
      else next = Math.min(next, connection.idleDeadlineMs);
    }
    if (next !== Infinity) this.#armIdleTimer(next);
  }
}
