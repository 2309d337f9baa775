import { randomUUID } from 'node:crypto';
import { StreamInfo, type FilterState, type HeaderMap } from '@il/core';
import type { RouteMatchResult } from '../route/index.js';
import { RouterFilter, type RouterCallbacks } from '../router/router.js';
import type { HcmConnection } from './connection.js';
import type { DownstreamAbort, DownstreamEvents, DownstreamProtocol, DownstreamResetCode, DownstreamStream } from './downstream.js';
import { addressFromXff, appendValue, firstValue, hasToken, httpDate, isInternalIp, removeHeader } from './headers.js';
import { ResponseCodeDetails } from './local-reply.js';
import type { HcmSettings } from './settings.js';
import { mutateClientCertHeader } from './client-cert-details.js';

/** Envoy's x-envoy-* request headers that only trusted (internal) clients may send. */
const INTERNAL_ONLY_ENVOY_HEADERS = [
  'x-envoy-retry-on',
  'x-envoy-retry-grpc-on',
  'x-envoy-max-retries',
  'x-envoy-upstream-alt-stat-name',
  'x-envoy-upstream-rq-timeout-ms',
  'x-envoy-upstream-rq-per-try-timeout-ms',
  'x-envoy-upstream-rq-timeout-alt-response',
  'x-envoy-expected-rq-timeout-ms',
  'x-envoy-force-trace',
  'x-envoy-ip-tags',
];

/** A request rejected before routing (a codec-level limit), answered as a local reply. */
export interface EarlyRejection {
  readonly status: number;
  readonly body: string;
  readonly details: string;
}

/** host:port, the host a name, an IPv4 address or a bracketed IPv6 address, the port 1-65535. */
const AUTHORITY_FORM = /^(?:\[[0-9A-Fa-f:.]+\]|[^\s:/?#@[\]]+):(?:6553[0-5]|655[0-2]\d|65[0-4]\d{2}|6[0-4]\d{3}|[1-5]\d{4}|[1-9]\d{0,3})$/;

function noop(): void {
  // Request body errors end in the stream's close.
}

/**
 * One request/response exchange through the connection manager (Envoy's ActiveStream): sanitizes
 * the request headers, routes, hands forwarding to the router, sends local replies, keeps the
 * stream timers, counts stats and writes the access log when the stream is over.
 */
export class ActiveStream implements DownstreamEvents, RouterCallbacks {
  readonly settings: HcmSettings;
  readonly streamInfo: StreamInfo;
  readonly requestHeaders: HeaderMap;
  readonly protocol: DownstreamProtocol;
  requestComplete = false;
  requestCompleteMs: number | undefined;
  readonly #conn: HcmConnection;
  readonly #downstream: DownstreamStream;
  #router: RouterFilter | undefined;
  #responseComplete = false;
  #closeConnection = false;
  #finished = false;
  #upgraded = false;
  #bodyPaused = false;
  #idleTimeoutMs: number;
  #idleTimer: NodeJS.Timeout | undefined;
  #lastActivityMs: number;
  #requestTimer: NodeJS.Timeout | undefined;
  #durationTimer: NodeJS.Timeout | undefined;

  constructor(connection: HcmConnection, downstream: DownstreamStream, headers: HeaderMap) {
    this.#conn = connection;
    this.#downstream = downstream;
    this.settings = connection.settings;
    this.protocol = downstream.protocol;
    this.requestHeaders = headers;
    const connectionInfo = connection.downstream.streamInfo;
    // A request shares its connection's filter state and metadata (what an internal hop passed in).
    const info = new StreamInfo({ filterState: connectionInfo.filterState, dynamicMetadata: connectionInfo.dynamicMetadata });
    info.connectionId = connectionInfo.connectionId;
    info.downstreamLocalAddress = connectionInfo.downstreamLocalAddress;
    info.downstreamRemoteAddress = connectionInfo.downstreamRemoteAddress;
    info.downstreamDirectRemoteAddress = connectionInfo.downstreamDirectRemoteAddress;
    info.requestedServerName = connectionInfo.requestedServerName;
    info.downstreamTls = connectionInfo.downstreamTls;
    info.protocol = downstream.protocol;
    this.streamInfo = info;
    this.#idleTimeoutMs = this.settings.streamIdleTimeoutMs;
    this.#lastActivityMs = info.startMonotonicMs;
  }

  get hops(): number {
    return this.#conn.downstream.hops;
  }

  get downstreamFilterState(): FilterState {
    return this.streamInfo.filterState;
  }

  get responseStarted(): boolean {
    return this.#downstream.responseStarted;
  }

  get endedOnHeaders(): boolean {
    return this.#downstream.endedOnHeaders;
  }

  /** Runs the request: counts it, arms its timers, and routes it (or answers `rejection`). */
  start(rejection?: EarlyRejection): void {
    const { stats } = this.settings;
    const counters = stats.counters;
    counters.downstream_rq_total.inc();
    if (this.protocol === 'HTTP/2') counters.downstream_rq_http2_total.inc();
    else counters.downstream_rq_http1_total.inc();
    stats.gauges.downstream_rq_active.inc();
    if (this.#conn.onStreamStart()) this.#closeConnection = true;

    const downstream = this.#downstream;
    downstream.events = this;
    const body = downstream.body;
    body.on('error', noop);
    if (downstream.endedOnHeaders && this.protocol !== 'HTTP/2') {
      // Complete with its headers: nothing to read (node:http discards what a finished response
      // left unread), so the request side costs no stream events.
      this.#onRequestEnd();
    } else {
      body.on('data', (chunk: Buffer) => this.#onRequestData(chunk));
      body.once('end', () => this.#onRequestEnd());
      // A request without payload is complete with its headers (node emits 'end' a turn later).
      if (downstream.endedOnHeaders) this.#onRequestEnd();
    }
    if (this.#idleTimeoutMs > 0) this.#armIdleTimer();
    const requestTimeoutMs = this.settings.requestTimeoutMs;
    if (requestTimeoutMs > 0 && !this.requestComplete) this.#requestTimer = setTimeout(() => this.#onRequestTimeout(), requestTimeoutMs);
    const maxDurationMs = this.settings.maxStreamDurationMs;
    if (maxDurationMs > 0) this.#durationTimer = setTimeout(() => this.#onMaxDuration(), maxDurationMs);

    try {
      if (rejection !== undefined) {
        this.streamInfo.requestHeaders = this.requestHeaders;
        this.#closeConnection = true;
        this.sendLocalReply(rejection.status, rejection.body, rejection.details);
        return;
      }
      this.#decodeHeaders();
    } catch (error) {
      // A bug here must cost this stream only.
      this.settings.log('error', `[C${this.streamInfo.connectionId ?? 0}] stream failed: ${(error as Error).stack ?? String(error)}`);
      if (!this.#finished) this.sendLocalReply(500, '', 'internal_error');
    }
  }

  // ---- request ---------------------------------------------------------------------------

  /** Envoy's ActiveStream::decodeHeaders: validation, header sanitizing, routing. */
  #decodeHeaders(): void {
    const headers = this.requestHeaders;
    const settings = this.settings;
    const counters = settings.stats.counters;
    const method = headers[':method'] as string;
    const isConnect = method === 'CONNECT';
    this.streamInfo.requestHeaders = headers;

    if (this.protocol !== 'HTTP/2') {
      const connection = headers.connection;
      if (hasToken(connection, 'close') || (this.protocol === 'HTTP/1.0' && !hasToken(connection, 'keep-alive'))) this.#closeConnection = true;
    }
    if (this.protocol === 'HTTP/1.0') {
      if (!settings.acceptHttp10) {
        this.sendLocalReply(426, '', ResponseCodeDetails.lowVersion);
        return;
      }
      if (headers[':authority'] === undefined && settings.defaultHostForHttp10 !== '') headers[':authority'] = settings.defaultHostForHttp10;
    }
    const authority = headers[':authority'];
    if (typeof authority !== 'string' || authority === '') {
      this.sendLocalReply(400, '', ResponseCodeDetails.missingHost);
      return;
    }
    const path = headers[':path'] as string | undefined;
    // A classic CONNECT names its target in authority-form, host:port (RFC 9110 §9.3.6); Envoy and
    // ztunnel answer anything else with 400 instead of guessing a port.
    if (isConnect && path === undefined && !AUTHORITY_FORM.test(authority)) {
      this.sendLocalReply(400, '', ResponseCodeDetails.invalidAuthority);
      return;
    }
    if (!isConnect || path !== undefined) {
      if (path === undefined || path === '') {
        this.sendLocalReply(404, '', ResponseCodeDetails.missingPath);
        return;
      }
      if (path.charCodeAt(0) !== 47 /* '/' */ && !(method === 'OPTIONS' && path === '*')) {
        counters.downstream_rq_non_relative_path.inc();
        this.sendLocalReply(404, '', ResponseCodeDetails.absolutePath);
        return;
      }
    }
    if (settings.headersWithUnderscoresAction === 'REJECT_REQUEST' && Object.keys(headers).some((name) => name.includes('_'))) {
      this.#closeConnection = true;
      this.sendLocalReply(400, '', ResponseCodeDetails.invalidUnderscore);
      return;
    }

    this.#mutateRequestHeaders();

    counters.rq_total.inc();
    const protocolHeader = headers[':protocol'];
    const match = settings.routes.route({
      method,
      authority,
      path,
      protocol: typeof protocolHeader === 'string' ? protocolHeader : undefined,
      headers,
      localPort: this.#conn.localPort,
    });
    if (match === undefined) {
      counters.no_route.inc();
      this.streamInfo.setResponseFlag('NR');
      this.sendLocalReply(404, '', ResponseCodeDetails.routeNotFound);
      return;
    }
    this.streamInfo.routeName = match.route.name;
    if (match.upgrade.kind === 'rejected') {
      // Anti-smuggling: nothing else is parsed on this connection after a refused upgrade.
      this.#closeConnection = true;
      counters.downstream_rq_ws_on_non_ws_route.inc();
      this.sendLocalReply(403, '', ResponseCodeDetails.upgradeFailed);
      return;
    }
    const action = match.action;
    switch (action.kind) {
      case 'direct_response': {
        counters.rq_direct_response.inc();
        const extra: HeaderMap = Object.create(null) as HeaderMap;
        if (action.location !== undefined) extra.location = action.location;
        this.#sendLocalReply(action.status, action.body ?? '', ResponseCodeDetails.directResponse, extra, match);
        return;
      }
      case 'redirect': {
        counters.rq_redirect.inc();
        const extra: HeaderMap = Object.create(null) as HeaderMap;
        if (action.location !== '') extra.location = action.location;
        this.#sendLocalReply(action.status, '', ResponseCodeDetails.directResponse, extra, match);
        return;
      }
      case 'route': {
        if (action.idleTimeoutMs !== undefined) {
          this.#idleTimeoutMs = action.idleTimeoutMs;
          if (this.#idleTimer !== undefined) clearTimeout(this.#idleTimer);
          this.#idleTimer = undefined;
          if (this.#idleTimeoutMs > 0) this.#armIdleTimer();
        }
        const router = new RouterFilter(this, match, action);
        this.#router = router;
        router.decodeHeaders();
        if (this.requestComplete && !this.#finished) router.decodeEnd();
        return;
      }
    }
  }

  /**
   * Envoy's ConnectionManagerUtility::mutateRequestHeaders: hop-by-hop headers go (the codec
   * adapters skip them when encoding), x-forwarded-for / -proto, internal vs edge request,
   * x-request-id, via.
   */
  #mutateRequestHeaders(): void {
    const headers = this.requestHeaders;
    const settings = this.settings;
    delete headers['keep-alive'];
    delete headers['proxy-connection'];
    delete headers['x-envoy-internal'];
    if (firstValue(headers, 'expect')?.toLowerCase() === '100-continue') delete headers.expect;

    const remote = this.streamInfo.downstreamRemoteAddress;
    // The connection's own scheme: https once its transport socket is TLS.
    const scheme = this.streamInfo.downstreamTls === undefined ? 'http' : 'https';
    let finalIp: string | undefined;
    let singleXff: boolean;
    if (settings.useRemoteAddress) {
      singleXff = headers['x-forwarded-for'] === undefined;
      if (settings.xffNumTrustedHops > 0) finalIp = addressFromXff(headers, settings.xffNumTrustedHops - 1).ip;
      if (finalIp === undefined && remote?.kind === 'ip') finalIp = remote.ip;
      // Envoy appends only IP peers; internal and pipe connections have no address to append.
      if (!settings.skipXffAppend && remote?.kind === 'ip') {
        const existing = firstValue(headers, 'x-forwarded-for');
        headers['x-forwarded-for'] = existing === undefined || existing === '' ? remote.ip : `${existing},${remote.ip}`;
      }
      headers['x-forwarded-proto'] = scheme;
    } else {
      const fromXff = addressFromXff(headers, settings.xffNumTrustedHops);
      finalIp = fromXff.ip;
      singleXff = fromXff.single;
      if (finalIp !== undefined) this.streamInfo.downstreamRemoteAddress = { kind: 'ip', ip: finalIp, port: 0 };
    }
    if (headers['x-forwarded-proto'] === undefined) headers['x-forwarded-proto'] = scheme;

    mutateClientCertHeader(headers, this.streamInfo, settings.forwardClientCertDetails, settings.setCurrentClientCertDetails);

    const internalRequest = singleXff && finalIp !== undefined && isInternalIp(finalIp);
    const edgeRequest = !internalRequest && settings.useRemoteAddress;
    if (internalRequest) {
      headers['x-envoy-internal'] = 'true';
    } else {
      if (edgeRequest) {
        delete headers['x-envoy-decorator-operation'];
        delete headers['x-envoy-downstream-service-cluster'];
        delete headers['x-envoy-downstream-service-node'];
      }
      for (const name of INTERNAL_ONLY_ENVOY_HEADERS) removeHeader(headers, name);
      for (const name of settings.routes.internalOnlyHeaders) removeHeader(headers, name);
    }
    if (edgeRequest && finalIp !== undefined) headers['x-envoy-external-address'] = finalIp;
    if (settings.via !== '') appendValue(headers, 'via', settings.via);
    if (settings.generateRequestId) {
      const existing = firstValue(headers, 'x-request-id');
      if (existing === undefined || existing === '' || (edgeRequest && !settings.preserveExternalRequestId)) headers['x-request-id'] = randomUUID();
    }
  }

  #onRequestData(chunk: Buffer): void {
    this.streamInfo.bytesReceived += chunk.length;
    this.#lastActivityMs = performance.now();
    const router = this.#router;
    if (router === undefined || this.#finished) return;
    if (!router.decodeData(chunk)) this.#pauseBody();
  }

  #onRequestEnd(): void {
    if (this.requestComplete) return;
    this.requestComplete = true;
    const now = performance.now();
    this.requestCompleteMs = now;
    this.streamInfo.lastDownstreamRxByteMonotonicMs = now;
    this.#lastActivityMs = now;
    if (this.#requestTimer !== undefined) clearTimeout(this.#requestTimer);
    this.#requestTimer = undefined;
    if (this.#finished) return;
    this.#router?.decodeEnd();
    if (this.#responseComplete) this.#afterResponseComplete();
  }

  #pauseBody(): void {
    if (this.#bodyPaused) return;
    this.#bodyPaused = true;
    this.#downstream.body.pause();
  }

  continueDecoding(): void {
    if (!this.#bodyPaused) return;
    this.#bodyPaused = false;
    this.#downstream.body.resume();
  }

  // ---- response --------------------------------------------------------------------------

  /** Envoy's ActiveStream::encodeHeaders: date, server, via, request id, drain and close decisions, stats. */
  encodeHeaders(status: number, headers: HeaderMap, endStream: boolean, options: { tunnel: boolean; trailers: boolean; flush: boolean }): void {
    if (this.#finished || this.#downstream.responseStarted) return;
    const settings = this.settings;
    this.#lastActivityMs = performance.now();
    if (headers.date === undefined) headers.date = httpDate();
    const transformation = settings.serverHeaderTransformation;
    if (transformation === 'OVERWRITE' || (transformation === 'APPEND_IF_ABSENT' && headers.server === undefined)) headers.server = settings.serverName;
    if (settings.via !== '') appendValue(headers, 'via', settings.via);
    if (settings.alwaysSetRequestIdInResponse) {
      const requestId = firstValue(this.requestHeaders, 'x-request-id');
      if (requestId !== undefined) headers['x-request-id'] = requestId;
    }
    const tunnel = options.tunnel && status >= 200 && status < 300;
    let close = this.#closeConnection;
    if (this.#conn.drainCloseCheck()) close = true;
    if (!this.requestComplete && !tunnel) {
      settings.stats.counters.downstream_rq_response_before_rq_complete.inc();
      // A one-request-at-a-time connection cannot wait for the rest of a request it answered.
      if (this.protocol !== 'HTTP/2') close = true;
    }
    if (this.protocol === 'HTTP/1.0' && headers['content-length'] === undefined) close = true;
    if (close) this.#conn.markClosing();

    settings.stats.chargeResponseCode(status);
    this.streamInfo.responseCode = status;
    this.streamInfo.responseHeaders = headers;
    if (tunnel) {
      this.#upgraded = true;
      settings.stats.counters.downstream_cx_upgrades_total.inc();
      settings.stats.gauges.downstream_cx_upgrades_active.inc();
    }
    try {
      this.#downstream.respond(status, headers, {
        endStream,
        closeConnection: close && this.protocol !== 'HTTP/2',
        tunnel,
        trailers: options.trailers,
        flush: options.flush,
      });
    } catch (error) {
      // A header the codec refuses (node validates names and values): the stream cannot answer.
      this.settings.log('debug', `[C${this.streamInfo.connectionId ?? 0}] response headers refused: ${(error as Error).message}`);
      this.streamInfo.responseCodeDetails = 'response_headers_invalid';
      this.resetStream('no_error');
      return;
    }
    if (tunnel && settings.flushLogOnTunnelEstablished) this.#log('DownstreamTunnelSuccessfullyEstablished');
    if (endStream) this.#onResponseEnded();
  }

  encodeData(chunk: Buffer): boolean {
    if (this.#finished) return true;
    this.streamInfo.bytesSent += chunk.length;
    this.#lastActivityMs = performance.now();
    return this.#downstream.write(chunk);
  }

  encodeEnd(trailers: HeaderMap | undefined): void {
    if (this.#finished || this.#responseComplete) return;
    if (trailers !== undefined) this.streamInfo.responseTrailers = trailers;
    this.#downstream.end(trailers);
    this.#onResponseEnded();
  }

  #onResponseEnded(): void {
    this.#responseComplete = true;
    this.streamInfo.lastDownstreamTxByteMonotonicMs = performance.now();
    if (this.requestComplete) this.#afterResponseComplete();
    else if (this.protocol === 'HTTP/2') {
      // Envoy's doEndStream: the response is done but the request is not; HTTP/2 resets the
      // stream after END_STREAM (HTTP/1 closes the connection, decided with the headers).
      this.#downstream.reset('no_error');
    }
  }

  #afterResponseComplete(): void {
    // Nothing more can happen on this stream's timers.
    this.#clearTimers();
  }

  /**
   * Envoy's sendLocalReply: a response made here (404, 503, 504...) with `content-type: text/plain`
   * when it has a body. Once a response has started it can only be reset; once it is complete,
   * a second local reply does nothing.
   */
  sendLocalReply(status: number, body: string, details: string, extraHeaders?: HeaderMap): void {
    this.#sendLocalReply(status, body, details, extraHeaders, undefined);
  }

  #sendLocalReply(status: number, body: string | Buffer, details: string, extraHeaders: HeaderMap | undefined, match: RouteMatchResult | undefined): void {
    if (this.#finished || this.#responseComplete) return;
    this.streamInfo.responseCodeDetails = details;
    this.#router?.destroy();
    if (this.#downstream.responseStarted) {
      this.resetStream('no_error');
      return;
    }
    const headers: HeaderMap = extraHeaders ?? (Object.create(null) as HeaderMap);
    const payload = typeof body === 'string' ? Buffer.from(body) : body;
    if (payload.length > 0) headers['content-type'] = 'text/plain';
    headers['content-length'] = String(payload.length);
    match?.mutateResponseHeaders(headers, this.streamInfo);
    const headOnly = payload.length === 0 || this.requestHeaders[':method'] === 'HEAD';
    try {
      this.encodeHeaders(status, headers, headOnly, { tunnel: false, trailers: false, flush: false });
    } catch (error) {
      this.settings.log('debug', `[C${this.streamInfo.connectionId ?? 0}] local reply failed: ${(error as Error).message}`);
      this.resetStream('no_error');
      return;
    }
    if (!headOnly) {
      this.encodeData(payload);
      this.encodeEnd(undefined);
    }
  }

  resetStream(code: DownstreamResetCode): void {
    if (this.#finished) return;
    this.settings.stats.counters.downstream_rq_tx_reset.inc();
    this.#router?.destroy();
    if (this.protocol !== 'HTTP/2') this.#conn.markClosing();
    this.#downstream.reset(code);
  }

  // ---- codec events ----------------------------------------------------------------------

  onDrain(): void {
    this.#lastActivityMs = performance.now();
    this.#router?.onResponseDrain();
  }

  onClose(abort: DownstreamAbort): void {
    if (this.#finished) return;
    if (abort !== false) {
      const streamInfo = this.streamInfo;
      this.settings.stats.counters.downstream_rq_rx_reset.inc();
      if (abort === 'reset') {
        streamInfo.setResponseFlag('DR');
        streamInfo.responseCodeDetails ??= ResponseCodeDetails.downstreamRemoteReset;
      } else {
        streamInfo.setResponseFlag('DC');
        streamInfo.responseCodeDetails ??= ResponseCodeDetails.downstreamRemoteDisconnect;
      }
    }
    // A client's reset (RST_STREAM, or a TCP RST under an HTTP/1.1 tunnel) crosses to the upstream as one.
    this.#finish(abort === 'reset' || abort === 'connection_reset' ? 'downstreamReset' : undefined);
  }

  #finish(cause?: 'downstreamReset'): void {
    this.#finished = true;
    this.#clearTimers();
    this.#router?.destroy(cause);
    const settings = this.settings;
    const streamInfo = this.streamInfo;
    streamInfo.finish();
    settings.stats.gauges.downstream_rq_active.dec();
    settings.stats.downstream_rq_time.record(streamInfo.durationMs());
    if (this.#upgraded) settings.stats.gauges.downstream_cx_upgrades_active.dec();
    this.#log('DownstreamEnd');
    this.#conn.onStreamDone();
  }

  #log(type: string): void {
    for (const logger of this.settings.accessLoggers) {
      try {
        logger.log({ streamInfo: this.streamInfo, accessLogType: type });
      } catch (error) {
        this.settings.log('warn', `access log failed: ${(error as Error).message}`);
      }
    }
  }

  // ---- timers ----------------------------------------------------------------------------

  #armIdleTimer(): void {
    const wait = Math.max(1, this.#lastActivityMs + this.#idleTimeoutMs - performance.now());
    this.#idleTimer = setTimeout(() => {
      this.#idleTimer = undefined;
      if (this.#finished) return;
      if (performance.now() - this.#lastActivityMs >= this.#idleTimeoutMs - 1) this.#onIdleTimeout();
      else this.#armIdleTimer();
    }, wait);
  }

  /** Envoy's onIdleTimeout: 408 before the request is complete, 504 after; a reset once the response started. */
  #onIdleTimeout(): void {
    this.settings.stats.counters.downstream_rq_idle_timeout.inc();
    this.streamInfo.setResponseFlag('SI');
    this.sendLocalReply(this.requestComplete ? 504 : 408, 'stream timeout', ResponseCodeDetails.streamIdleTimeout);
  }

  #onRequestTimeout(): void {
    this.#requestTimer = undefined;
    if (this.#finished || this.requestComplete) return;
    this.settings.stats.counters.downstream_rq_timeout.inc();
    this.sendLocalReply(408, 'request timeout', ResponseCodeDetails.requestOverallTimeout);
  }

  #onMaxDuration(): void {
    this.#durationTimer = undefined;
    if (this.#finished) return;
    this.sendLocalReply(this.requestComplete ? 504 : 408, 'downstream duration timeout', 'max_duration_timeout');
  }

  #clearTimers(): void {
    if (this.#idleTimer !== undefined) clearTimeout(this.#idleTimer);
    if (this.#requestTimer !== undefined) clearTimeout(this.#requestTimer);
    if (this.#durationTimer !== undefined) clearTimeout(this.#durationTimer);
    this.#idleTimer = undefined;
    this.#requestTimer = undefined;
    this.#durationTimer = undefined;
  }
}
