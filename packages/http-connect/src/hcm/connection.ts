import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import http2, { constants as h2c, type IncomingHttpHeaders, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';
import type { Duplex } from 'node:stream';
import { StreamInfo, type ConnectionSocket, type DownstreamConnection, type HeaderMap } from '@il/core';
import { Http2CodecSocket } from '../codec/http2-codec-socket.js';
import { startKeepalive } from '../codec/http2-keepalive.js';
import { ActiveStream, type EarlyRejection } from './active-stream.js';
import { Http1Exchange, Http1Tunnel, Http2Exchange, type DownstreamProtocol } from './downstream.js';
import { firstValue, headerMapFromRaw, httpDate, removeHeader } from './headers.js';
import { ResponseCodeDetails, statusText } from './local-reply.js';
import type { HcmSettings } from './settings.js';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
const MIB = 1024 * 1024;

function noop(): void {
  // Socket and session errors are followed by 'close', which is where they are handled.
}

/**
 * The codecs of one compiled connection manager: a node:http server and a node:http2 server that
 * never listen. Each downstream socket is handed to one of them with `emit('connection')`; their
 * request events find the connection the socket belongs to.
 */
export class HcmCodecs {
  readonly http1: http.Server;
  readonly http2: http2.Http2Server;
  readonly #bySocket = new WeakMap<object, HcmConnection>();
  readonly #bySession = new WeakMap<ServerHttp2Session, HcmConnection>();
  /** Open connections, told about a server drain by one listener (not one per connection). */
  readonly #connections = new Set<HcmConnection>();
  #attaching: HcmConnection | undefined;

  constructor(settings: HcmSettings) {
    settings.drain.once('drain', () => {
      for (const connection of this.#connections) connection.onServerDrain();
      // Ends node:http's header-timeout checks (an interval). Closing also lets node:http close the
      // HTTP/1 connections that sit idle between requests, which a drain would close later anyway.
      if (settings.requestHeadersTimeoutMs > 0) this.close();
    });
    const headersTimeoutMs = settings.requestHeadersTimeoutMs;
    this.http1 = http.createServer({
      maxHeaderSize: settings.maxRequestHeadersBytes,
      requireHostHeader: false,
      keepAliveTimeout: 0,
      requestTimeout: 0,
      headersTimeout: headersTimeoutMs,
      // Node checks request_headers_timeout on this interval; a tenth of it keeps the error small.
      connectionsCheckingInterval: headersTimeoutMs > 0 ? Math.max(10, Math.min(1000, Math.floor(headersTimeoutMs / 10))) : 30_000,
      joinDuplicateHeaders: false,
      insecureHTTPParser: false,
    });
    // Node only tracks header timeouts for servers that listen; this one is fed sockets instead.
    if (headersTimeoutMs > 0) this.http1.emit('listening');
    // One more than Envoy's limit, so that going over it is visible (node:http would truncate).
    this.http1.maxHeadersCount = settings.maxHeadersCount + 1;
    this.http1.timeout = 0;
    this.http1.on('request', (req: IncomingMessage, res: ServerResponse) => {
      const connection = this.#bySocket.get(req.socket);
      if (connection === undefined) res.destroy();
      else connection.onHttp1Request(req, res);
    });
    this.http1.on('connect', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const connection = this.#bySocket.get(socket);
      if (connection === undefined) socket.destroy();
      else connection.onHttp1Connect(req, socket as ConnectionSocket, head);
    });
    this.http1.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
      const connection = this.#bySocket.get(socket);
      if (connection === undefined) socket.destroy();
      else connection.onHttp1ClientError(error);
    });

    const h2 = settings.http2;
    this.http2 = http2.createServer({
      settings: {
        maxConcurrentStreams: Math.min(h2.maxConcurrentStreams, 2 ** 32 - 1),
        initialWindowSize: h2.initialStreamWindowSize,
        enableConnectProtocol: h2.allowConnect,
        maxHeaderListSize: settings.maxRequestHeadersBytes,
        headerTableSize: h2.hpackTableSize,
        enablePush: false,
      },
      // Pseudo-headers count as entries for node:http2.
      maxHeaderListPairs: settings.maxHeadersCount + 5,
      maxSessionMemory: Math.max(10, Math.ceil((2 * h2.initialConnectionWindowSize) / MIB)),
    });
    this.http2.on('session', (session: ServerHttp2Session) => {
      const connection = this.#attaching;
      if (connection === undefined) {
        session.destroy();
        return;
      }
      this.#bySession.set(session, connection);
      connection.onHttp2Session(session);
    });
    this.http2.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, flags: number) => {
      const connection = this.#bySession.get(stream.session as ServerHttp2Session);
      if (connection === undefined) stream.close(h2c.NGHTTP2_REFUSED_STREAM);
      else connection.onHttp2Stream(stream, headers, flags);
    });
    this.http2.on('sessionError', noop);
  }

  track(connection: HcmConnection): void {
    this.#connections.add(connection);
  }

  untrack(connection: HcmConnection): void {
    this.#connections.delete(connection);
  }

  attachHttp1(connection: HcmConnection, socket: ConnectionSocket): void {
    this.#bySocket.set(socket, connection);
    this.http1.emit('connection', socket);
  }

  attachHttp2(connection: HcmConnection, socket: Http2CodecSocket): void {
    this.#attaching = connection;
    try {
      this.http2.emit('connection', socket);
    } finally {
      this.#attaching = undefined;
    }
  }

  close(): void {
    this.http1.close();
    this.http2.close();
  }
}

/**
 * One downstream connection of a connection manager (Envoy's ConnectionManagerImpl): picks the
 * codec (AUTO looks for the HTTP/2 preface), owns the connection-level timers (idle timeout, max
 * connection duration, drain) and stats, and starts an ActiveStream for every request.
 */
export class HcmConnection {
  readonly settings: HcmSettings;
  readonly downstream: DownstreamConnection;
  readonly #codecs: HcmCodecs;
  readonly #socket: ConnectionSocket;
  readonly #startedMs = performance.now();
  #codec: 'http1' | 'http2' | undefined;
  #session: ServerHttp2Session | undefined;
  /** What the HTTP/2 session runs on: never blocks it on the client's reading (see Http2CodecSocket). */
  #codecSocket: Http2CodecSocket | undefined;
  #activeStreams = 0;
  #requests = 0;
  /** No new requests: HTTP/1 closes after the current response, HTTP/2 has sent GOAWAY. */
  #closing = false;
  #drainCounted = false;
  #closed = false;
  #localClose = false;
  #idleTimer: NodeJS.Timeout | undefined;
  #durationTimer: NodeJS.Timeout | undefined;

  constructor(settings: HcmSettings, codecs: HcmCodecs, downstream: DownstreamConnection) {
    this.settings = settings;
    this.#codecs = codecs;
    this.downstream = downstream;
    this.#socket = downstream.socket;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The listener port, for strip_matching_host_port (undefined for pipes and internal listeners). */
  get localPort(): number | undefined {
    const local = this.downstream.streamInfo.downstreamLocalAddress;
    return local?.kind === 'ip' ? local.port : undefined;
  }

  start(): void {
    const { stats } = this.settings;
    stats.counters.downstream_cx_total.inc();
    stats.gauges.downstream_cx_active.inc();
    const socket = this.#socket;
    socket.on('error', noop);
    socket.once('close', () => this.#onClose());
    this.#codecs.track(this);
    const maxDurationMs = this.settings.maxConnectionDurationMs;
    if (maxDurationMs > 0) this.#durationTimer = setTimeout(() => this.#onMaxDuration(), maxDurationMs);
    this.#armIdleTimer();
    // Over TLS, ALPN already chose (codec_type AUTO): h2, or http/1.1.
    const alpn = this.downstream.streamInfo.downstreamTls?.alpn;
    if (this.settings.codecType === 'AUTO' && alpn === 'h2') {
      this.#useHttp2();
      return;
    }
    if (this.settings.codecType === 'AUTO' && alpn === 'http/1.1') {
      this.#useHttp1();
      return;
    }
    switch (this.settings.codecType) {
      case 'HTTP1':
        this.#useHttp1();
        break;
      case 'HTTP2':
        this.#useHttp2();
        break;
      default:
        this.#sniff();
    }
  }

  // ---- codec selection -------------------------------------------------------------------

  /** codec_type AUTO: HTTP/2 if the first bytes are the connection preface, else HTTP/1.1. */
  #sniff(): void {
    const socket = this.#socket;
    let seen: Buffer = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
      const n = Math.min(seen.length, PREFACE.length);
      const http2Preface = seen.subarray(0, n).equals(PREFACE.subarray(0, n));
      if (http2Preface && seen.length < PREFACE.length) return;
      stop();
      socket.pause();
      socket.unshift(seen);
      if (http2Preface) this.#useHttp2();
      else this.#useHttp1();
    };
    const onEnd = (): void => {
      stop();
      this.#destroy();
    };
    const stop = (): void => {
      socket.off('data', onData);
      socket.off('end', onEnd);
    };
    socket.on('data', onData);
    socket.once('end', onEnd);
  }

  #useHttp1(): void {
    this.#codec = 'http1';
    const { stats } = this.settings;
    stats.counters.downstream_cx_http1_total.inc();
    stats.gauges.downstream_cx_http1_active.inc();
    this.#codecs.attachHttp1(this, this.#socket);
    // node:http listens for 'data' but does not resume a socket paused while sniffing.
    this.#socket.resume();
  }

  #useHttp2(): void {
    this.#codec = 'http2';
    const { stats } = this.settings;
    stats.counters.downstream_cx_http2_total.inc();
    stats.gauges.downstream_cx_http2_active.inc();
    // The connection manager does not half-close: the client's FIN closes the connection (and
    // resets its streams), as Envoy's RemoteClose does. node:http2 would keep a half-open socket.
    this.#socket.once('end', () => this.#destroy());
    this.#codecSocket = new Http2CodecSocket(this.#socket, {
      highWatermarkBytes: this.downstream.listener.perConnectionBufferLimitBytes,
      stallTimeoutMs: this.settings.http2.stallTimeoutMs,
      onStall: () => stats.http2_tx_stall_timeout.inc(),
    });
    this.#codecs.attachHttp2(this, this.#codecSocket);
  }

  // ---- HTTP/1 ----------------------------------------------------------------------------

  onHttp1Request(req: IncomingMessage, res: ServerResponse): void {
    const protocol: DownstreamProtocol = req.httpVersionMinor === 0 && req.httpVersionMajor === 1 ? 'HTTP/1.0' : 'HTTP/1.1';
    const settings = this.settings;
    const raw = req.rawHeaders;
    const headers = headerMapFromRaw(raw, settings.headersWithUnderscoresAction === 'DROP_HEADER');
    let path = req.url ?? '';
    let authority = firstValue(headers, 'host');
    // Absolute-form request-target (a proxy request): its authority wins over Host (RFC 9112 §3.2.2).
    if (!path.startsWith('/') && /^https?:\/\//i.test(path)) {
      try {
        const url = new URL(path);
        authority = url.host;
        path = `${url.pathname}${url.search}`;
      } catch {
        // Left as is: the stream answers 404 for a path that is not relative.
      }
    }
    delete headers.host;
    headers[':method'] = req.method ?? 'GET';
    headers[':path'] = path;
    if (authority !== undefined) headers[':authority'] = authority;
    headers[':scheme'] = this.downstream.streamInfo.downstreamTls === undefined ? 'http' : 'https';
    const contentLength = firstValue(headers, 'content-length');
    const endedOnHeaders = headers['transfer-encoding'] === undefined && (contentLength === undefined || contentLength === '0');
    const rejection: EarlyRejection | undefined =
      raw.length / 2 > settings.maxHeadersCount
        ? { status: 431, body: statusText(431), details: ResponseCodeDetails.tooManyHeaders }
        : undefined;
    new ActiveStream(this, new Http1Exchange(protocol, req, res, endedOnHeaders), headers).start(rejection);
  }

  /** An HTTP/1.1 CONNECT: node:http gives up the socket; the request-target is the authority (Host is ignored). */
  onHttp1Connect(req: IncomingMessage, socket: ConnectionSocket, head: Buffer): void {
    const protocol: DownstreamProtocol = req.httpVersionMinor === 0 ? 'HTTP/1.0' : 'HTTP/1.1';
    const headers = headerMapFromRaw(req.rawHeaders, this.settings.headersWithUnderscoresAction === 'DROP_HEADER');
    delete headers.host;
    headers[':method'] = 'CONNECT';
    headers[':authority'] = req.url ?? '';
    new ActiveStream(this, new Http1Tunnel(protocol, socket, head), headers).start();
  }

  /**
   * node:http could not parse a request (Envoy's codec errors): 431 for oversized headers, 408
   * for request_headers_timeout, 400 for anything else, then the connection closes.
   */
  onHttp1ClientError(error: NodeJS.ErrnoException): void {
    const socket = this.#socket;
    const code = error.code ?? '';
    const inFlight = (socket as { _httpMessage?: { headersSent?: boolean } | null })._httpMessage;
    if (code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent === true) {
      this.#destroy();
      return;
    }
    const counters = this.settings.stats.counters;
    let status: number;
    let body: string;
    let details: string;
    if (code === 'ERR_HTTP_REQUEST_TIMEOUT') {
      counters.downstream_rq_header_timeout.inc();
      status = 408;
      body = 'request header timeout';
      details = ResponseCodeDetails.requestHeaderTimeout;
    } else {
      counters.downstream_cx_protocol_error.inc();
      status = code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
      body = statusText(status);
      details = code === 'HPE_HEADER_OVERFLOW' ? ResponseCodeDetails.headersTooLarge : codecErrorDetails(code);
    }
    const serverHeader = this.settings.serverHeaderTransformation === 'PASS_THROUGH' ? '' : `server: ${this.settings.serverName}\r\n`;
    socket.write(
      `HTTP/1.1 ${status} ${statusText(status)}\r\ncontent-length: ${Buffer.byteLength(body)}\r\ncontent-type: text/plain\r\n` +
        `date: ${httpDate()}\r\n${serverHeader}connection: close\r\n\r\n${body}`,
    );
    this.#localClose = true;
    socket.destroySoon();
    this.#logCodecError(status, details, code === 'ERR_HTTP_REQUEST_TIMEOUT' ? undefined : 'DPE');
  }

  /** A request that never became a stream still gets its access log line, as in Envoy. */
  #logCodecError(status: number, details: string, flag: 'DPE' | undefined): void {
    const settings = this.settings;
    settings.stats.counters.downstream_rq_total.inc();
    settings.stats.counters.downstream_rq_http1_total.inc();
    settings.stats.chargeResponseCode(status);
    if (settings.accessLoggers.length === 0) return;
    const connectionInfo = this.downstream.streamInfo;
    const info = new StreamInfo({ filterState: connectionInfo.filterState, dynamicMetadata: connectionInfo.dynamicMetadata });
    info.connectionId = connectionInfo.connectionId;
    info.downstreamLocalAddress = connectionInfo.downstreamLocalAddress;
    info.downstreamRemoteAddress = connectionInfo.downstreamRemoteAddress;
    info.downstreamDirectRemoteAddress = connectionInfo.downstreamDirectRemoteAddress;
    info.downstreamTls = connectionInfo.downstreamTls;
    info.protocol = 'HTTP/1.1';
    info.responseCode = status;
    info.responseCodeDetails = details;
    if (flag !== undefined) info.setResponseFlag(flag);
    info.finish();
    for (const logger of settings.accessLoggers) logger.log({ streamInfo: info, accessLogType: 'DownstreamEnd' });
  }

  // ---- HTTP/2 ----------------------------------------------------------------------------

  onHttp2Session(session: ServerHttp2Session): void {
    this.#session = session;
    const codecSocket = this.#codecSocket;
    if (codecSocket !== undefined) {
      startKeepalive(session, this.settings.http2.connectionKeepalive, {
        lastReceivedMs: () => codecSocket.lastReceivedMs,
        onTimeout: () => this.settings.stats.http2_keepalive_timeout.inc(),
      });
    }
    // node:http2 ends a session whose peer broke the protocol with GOAWAY INTERNAL_ERROR; Envoy
    // (nghttp2) names the violation: FLOW_CONTROL_ERROR, FRAME_SIZE_ERROR, PROTOCOL_ERROR...
    const destroy = session.destroy.bind(session);
    session.destroy = (error?: Error, code?: number): void => {
      destroy(error, code ?? goawayCodeFor(error));
    };
    session.on('error', (error: NodeJS.ErrnoException) => {
      this.settings.log('debug', `[C${this.downstream.streamInfo.connectionId ?? 0}] HTTP/2 session error: ${error.message}`);
      if (error.code !== 'ERR_HTTP2_SESSION_ERROR' && error.code !== 'ECONNRESET') this.settings.stats.counters.downstream_cx_protocol_error.inc();
    });
    session.on('frameError', noop);
    // A stream can fail before the server's 'stream' event reaches it (a session error in the
    // same read as its HEADERS): it must never have an unhandled 'error'.
    session.on('stream', (stream: ServerHttp2Stream) => stream.on('error', noop));
    session.once('goaway', (code: number) => {
      if (code !== h2c.NGHTTP2_NO_ERROR) this.settings.stats.counters.downstream_cx_protocol_error.inc();
    });
    // Envoy's connection window (256 MiB by default); node:http2 starts from the RFC's 64 KiB.
    const window = this.settings.http2.initialConnectionWindowSize;
    if (window > 65_535) {
      try {
        session.setLocalWindowSize(window);
      } catch {
        // The session is already gone.
      }
    }
    if (this.#closing) session.close();
  }

  onHttp2Stream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, flags: number): void {
    const map = headers as HeaderMap;
    if (this.settings.headersWithUnderscoresAction === 'DROP_HEADER') {
      for (const name of Object.keys(map)) if (name.includes('_')) removeHeader(map, name);
    }
    const endedOnHeaders = (flags & h2c.NGHTTP2_FLAG_END_STREAM) !== 0;
    new ActiveStream(this, new Http2Exchange(stream, endedOnHeaders, this.#codecSocket), map).start();
  }

  // ---- streams and connection state -------------------------------------------------------

  /**
   * A stream starts. Returns true when it is the last one max_requests_per_connection allows: an
   * HTTP/1 connection closes after its response (requests node:http pipelined ahead of it are
   * answered first); an HTTP/2 one gets GOAWAY.
   */
  onStreamStart(): boolean {
    this.#activeStreams++;
    this.#requests++;
    if (this.#idleTimer !== undefined) {
      clearTimeout(this.#idleTimer);
      this.#idleTimer = undefined;
    }
    const max = this.settings.maxRequestsPerConnection;
    if (max > 0 && this.#requests === max) {
      this.settings.stats.counters.downstream_cx_max_requests_reached.inc();
      if (this.#codec === 'http2') this.markClosing();
      return true;
    }
    return false;
  }

  onStreamDone(): void {
    this.#activeStreams--;
    // A closing connection goes away by itself: node:http after its `connection: close` response,
    // node:http2 once the streams GOAWAY let finish are done.
    if (this.#activeStreams > 0 || this.#closed || this.#closing) return;
    this.#armIdleTimer();
  }

  /**
   * Envoy's drain decision on each response (`drain_close_.drainClose()`): while the server drains,
   * HTTP/1 responses carry `connection: close` and HTTP/2 connections get GOAWAY.
   */
  drainCloseCheck(): boolean {
    if (this.#closing) return true;
    if (!this.settings.drain.drainClose()) return false;
    if (!this.#drainCounted) {
      this.#drainCounted = true;
      this.settings.stats.counters.downstream_cx_drain_close.inc();
    }
    this.markClosing();
    return true;
  }

  /** No more requests on this connection: HTTP/2 gets GOAWAY now (streams finish); HTTP/1 closes after this response. */
  markClosing(): void {
    if (this.#closing) return;
    this.#closing = true;
    const session = this.#session;
    if (session !== undefined && !session.closed && !session.destroyed) session.close();
  }

  /** The server started draining. */
  onServerDrain(): void {
    if (this.#closed) return;
    // HTTP/1 connections learn of the drain from their next response (`connection: close`, see
    // drainCloseCheck); idle ones are closed when the listener's drain time is over.
    if (this.#codec === 'http2') {
      if (!this.#drainCounted) {
        this.#drainCounted = true;
        this.settings.stats.counters.downstream_cx_drain_close.inc();
      }
      this.markClosing();
    }
  }

  #armIdleTimer(): void {
    const idleMs = this.settings.idleTimeoutMs;
    if (idleMs <= 0 || this.#closed) return;
    if (this.#idleTimer !== undefined) clearTimeout(this.#idleTimer);
    this.#idleTimer = setTimeout(() => {
      this.#idleTimer = undefined;
      if (this.#activeStreams > 0 || this.#closed) return;
      this.settings.stats.counters.downstream_cx_idle_timeout.inc();
      if (this.#codec === 'http2' && this.#session !== undefined) this.markClosing();
      else this.#destroy();
    }, idleMs);
  }

  #onMaxDuration(): void {
    this.#durationTimer = undefined;
    if (this.#closed) return;
    this.settings.stats.counters.downstream_cx_max_duration_reached.inc();
    if (this.#activeStreams === 0 && this.#codec !== 'http2') this.#destroy();
    else this.markClosing();
  }

  #destroy(): void {
    if (this.#socket.destroyed) return;
    this.#localClose = true;
    this.#socket.destroy();
  }

  #onClose(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#codecs.untrack(this);
    if (this.#idleTimer !== undefined) clearTimeout(this.#idleTimer);
    if (this.#durationTimer !== undefined) clearTimeout(this.#durationTimer);
    const { stats } = this.settings;
    const counters = stats.counters;
    counters.downstream_cx_destroy.inc();
    if (this.#localClose) counters.downstream_cx_destroy_local.inc();
    else counters.downstream_cx_destroy_remote.inc();
    if (this.#activeStreams > 0) counters.downstream_cx_destroy_active_rq.inc();
    stats.gauges.downstream_cx_active.dec();
    if (this.#codec === 'http1') stats.gauges.downstream_cx_http1_active.dec();
    else if (this.#codec === 'http2') stats.gauges.downstream_cx_http2_active.dec();
    const socket = this.#socket;
    counters.downstream_cx_rx_bytes_total.inc(socket.bytesRead);
    counters.downstream_cx_tx_bytes_total.inc(socket.bytesWritten);
    stats.downstream_cx_length_ms.record(performance.now() - this.#startedMs);
    if (this.#session !== undefined && !this.#session.destroyed) this.#session.destroy();
  }
}

/** nghttp2 library error codes (node:http2 reports them as `errno` of an ERR_HTTP2_ERROR). */
const NGHTTP2_LIB_ERRORS: ReadonlyMap<number, number> = new Map([
  [-505, h2c.NGHTTP2_PROTOCOL_ERROR], // NGHTTP2_ERR_PROTO
  [-510, h2c.NGHTTP2_STREAM_CLOSED], // NGHTTP2_ERR_STREAM_CLOSED
  [-522, h2c.NGHTTP2_FRAME_SIZE_ERROR], // NGHTTP2_ERR_FRAME_SIZE_ERROR
  [-523, h2c.NGHTTP2_COMPRESSION_ERROR], // NGHTTP2_ERR_HEADER_COMP
  [-524, h2c.NGHTTP2_FLOW_CONTROL_ERROR], // NGHTTP2_ERR_FLOW_CONTROL
  [-531, h2c.NGHTTP2_PROTOCOL_ERROR], // NGHTTP2_ERR_HTTP_HEADER
  [-532, h2c.NGHTTP2_PROTOCOL_ERROR], // NGHTTP2_ERR_HTTP_MESSAGING
]);

/** The GOAWAY code nghttp2 itself would send for a session error (get_error_code_from_lib_error_code). */
function goawayCodeFor(error: unknown): number | undefined {
  if (!(error instanceof Error) || (error as NodeJS.ErrnoException).code !== 'ERR_HTTP2_ERROR') return undefined;
  const errno = (error as NodeJS.ErrnoException).errno;
  return errno === undefined ? undefined : NGHTTP2_LIB_ERRORS.get(errno);
}

/** Envoy's details for the HTTP/1 codec errors node's llhttp reports. */
function codecErrorDetails(code: string): string {
  switch (code) {
    case 'HPE_UNEXPECTED_CONTENT_LENGTH':
      return 'http1.content_length_and_chunked_not_allowed';
    case 'HPE_INVALID_HEADER_TOKEN':
      return 'http1.invalid_characters';
    case 'HPE_INVALID_TRANSFER_ENCODING':
      return 'http1.invalid_transfer_encoding';
    case 'HPE_INVALID_METHOD':
      return 'http1.invalid_method';
    case 'HPE_INVALID_URL':
      return 'http1.invalid_url';
    default:
      return ResponseCodeDetails.codecError;
  }
}
