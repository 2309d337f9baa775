import type { OutgoingHttpHeaders } from 'node:http2';
import type { FilterState, HeaderMap, Host, StreamInfo, UpstreamCluster } from '@il/core';
import { proxyProtocolHeader } from '../connect/proxy-protocol.js';
import { TcpUpstream } from '../connect/tcp-upstream.js';
import type { DownstreamProtocol, DownstreamResetCode } from '../hcm/downstream.js';
import { firstValue, toHeaderList, toHttp2Headers } from '../hcm/headers.js';
import {
  ResponseCodeDetails,
  resetReasonFlag,
  upstreamResetBody,
  upstreamResetDetails,
  type ResetReason,
} from '../hcm/local-reply.js';
import type { HcmSettings } from '../hcm/settings.js';
import type { RouteForward, RouteMatchResult } from '../route/index.js';
import { autoTransportSocketOptions } from './auto-sni.js';
import { DeferredUpstream } from './deferred-upstream.js';
import { Http1Upstream } from './http1-upstream.js';
import { Http2Upstream } from './http2-upstream.js';
import { trackUpstreamRequest, type UpstreamCallbacks, type UpstreamRequest } from './upstream.js';

/** What the router needs from the stream it serves (Envoy's StreamDecoderFilterCallbacks). */
export interface RouterCallbacks {
  readonly settings: HcmSettings;
  readonly streamInfo: StreamInfo;
  /** Request headers after the connection manager's sanitizing, pseudo-headers included. */
  readonly requestHeaders: HeaderMap;
  readonly protocol: DownstreamProtocol;
  /** Internal hops of the downstream connection. */
  readonly hops: number;
  readonly downstreamFilterState: FilterState;
  readonly requestComplete: boolean;
  /** The request had no payload (END_STREAM on its headers). */
  readonly endedOnHeaders: boolean;
  /** When the last request byte arrived (performance.now()). */
  readonly requestCompleteMs: number | undefined;
  readonly responseStarted: boolean;
  encodeHeaders(status: number, headers: HeaderMap, endStream: boolean, options: { tunnel: boolean; trailers: boolean; flush: boolean }): void;
  encodeData(chunk: Buffer): boolean;
  encodeEnd(trailers: HeaderMap | undefined): void;
  sendLocalReply(status: number, body: string, details: string, extraHeaders?: HeaderMap): void;
  resetStream(code: DownstreamResetCode): void;
  /** Request payload may flow again (the upstream drained). */
  continueDecoding(): void;
}

/**
 * Envoy's router filter for one request whose route forwards to a cluster: picks the host, opens
 * the upstream request (HTTP/1.1 through undici, HTTP/2 through the shared pools, raw TCP for a
 * terminated CONNECT), streams both ways, applies the route timeout, and turns upstream failures
 * into Envoy's local replies and response flags.
 */
export class RouterFilter implements UpstreamCallbacks {
  readonly #cb: RouterCallbacks;
  readonly #match: RouteMatchResult;
  readonly #action: RouteForward;
  #cluster: UpstreamCluster | undefined;
  #host: Host | undefined;
  #upstream: UpstreamRequest | undefined;
  #release: (() => void) | undefined;
  #responseTimer: NodeJS.Timeout | undefined;
  #isConnect = false;
  /** A terminated CONNECT (or POST): the upstream is raw TCP. */
  #terminated = false;
  #upstreamComplete = false;
  #destroyed = false;

  constructor(callbacks: RouterCallbacks, match: RouteMatchResult, action: RouteForward) {
    this.#cb = callbacks;
    this.#match = match;
    this.#action = action;
  }

  /** Starts the upstream request (Envoy's Router::Filter::decodeHeaders). */
  decodeHeaders(): void {
    const cb = this.#cb;
    const { settings, streamInfo } = cb;
    const action = this.#action;
    const cluster = action.cluster === undefined ? undefined : settings.clusterManager.get(action.cluster);
    if (cluster === undefined) {
      settings.stats.counters.no_cluster.inc();
      streamInfo.setResponseFlag('NC');
      cb.sendLocalReply(503, '', ResponseCodeDetails.clusterNotFound);
      return;
    }
    this.#cluster = cluster;
    streamInfo.upstreamCluster = cluster.name;
    const host = cluster.chooseHost();
    if (host === undefined) {
      cluster.stats.counters.upstream_cx_none_healthy.inc();
      streamInfo.setResponseFlag('UH');
      this.#chargeUpstreamCode(503);
      cb.sendLocalReply(503, 'no healthy upstream', ResponseCodeDetails.noHealthyUpstream);
      return;
    }
    this.#host = host;
    streamInfo.upstreamHost = host.addressString;

    const headers = cb.requestHeaders;
    const method = headers[':method'] as string;
    this.#isConnect = method === 'CONNECT';
    const upgrade = action.upgrade;
    const connectConfig = upgrade.kind === 'allowed' ? upgrade.connectConfig : undefined;
    if (connectConfig !== undefined && (this.#isConnect || (method === 'POST' && connectConfig.allowPost))) {
      this.#terminated = true;
      this.#startTcp(cluster, host, connectConfig.proxyProtocolVersion);
      return;
    }
    this.#startHttp(cluster, host, method);
  }

  /** Request payload; false when the upstream is full (the stream waits for continueDecoding). */
  decodeData(chunk: Buffer): boolean {
    const upstream = this.#upstream;
    if (upstream === undefined || this.#upstreamComplete) return true;
    return upstream.write(chunk);
  }

  /** The downstream request is complete: END_STREAM upstream, and the route timeout starts. */
  decodeEnd(): void {
    if (this.#destroyed) return;
    this.#upstream?.end();
    const timeoutMs = this.#action.timeoutMs;
    if (timeoutMs > 0 && this.#upstream !== undefined && !this.#upstreamComplete) {
      this.#responseTimer = setTimeout(() => this.#onResponseTimeout(), timeoutMs);
    }
  }

  /** The downstream can take response data again. */
  onResponseDrain(): void {
    if (!this.#upstreamComplete) this.#upstream?.resumeResponse();
  }

  /**
   * The stream is over (or reset): an unfinished upstream request is reset. `downstreamReset`: the
   * client aborted the stream.
   */
  destroy(cause?: 'downstreamReset'): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    if (this.#responseTimer !== undefined) clearTimeout(this.#responseTimer);
    if (!this.#upstreamComplete) this.#upstream?.reset(cause);
    this.#upstreamComplete = true;
    this.#release?.();
  }

  // ---- starting --------------------------------------------------------------------------

  #startTcp(cluster: UpstreamCluster, host: Host, proxyProtocolVersion: 'V1' | 'V2' | undefined): void {
    const cb = this.#cb;
    const release = trackUpstreamRequest(cluster, host);
    if (release === undefined) {
      this.onUpstreamReset('overflow', undefined);
      return;
    }
    const connection = cluster.newConnection(host, { hops: cb.hops, downstreamFilterState: cb.downstreamFilterState, allowHalfOpen: true });
    if (connection === 'overflow') {
      release();
      this.onUpstreamReset('overflow', undefined);
      return;
    }
    this.#release = release;
    let preamble: Buffer | undefined;
    if (proxyProtocolVersion !== undefined) {
      preamble = proxyProtocolHeader(proxyProtocolVersion, cb.streamInfo.downstreamRemoteAddress, cb.streamInfo.downstreamLocalAddress);
      cb.streamInfo.upstreamHeaderBytesSent += preamble.length;
    }
    this.#upstream = new TcpUpstream(connection, preamble, this);
  }

  #startHttp(cluster: UpstreamCluster, host: Host, method: string): void {
    const cb = this.#cb;
    const action = this.#action;
    const headers = cb.requestHeaders;
    this.#match.mutateRequestHeaders(headers, cb.streamInfo);

    // Host and path rewrites (Envoy's finalizeRequestHeaders).
    let authority = (headers[':authority'] as string | undefined) ?? '';
    if (action.hostRewriteLiteral !== undefined) authority = action.hostRewriteLiteral;
    else if (action.autoHostRewrite && host.hostname !== '') authority = host.hostname;
    else if (action.hostRewriteHeader !== undefined) {
      const value = firstValue(headers, action.hostRewriteHeader);
      if (value !== undefined && value !== '') authority = value;
    }
    // (Envoy adds x-forwarded-host only with the route's append_x_forwarded_host, which il does not read.)
    headers[':authority'] = authority;
    const path = headers[':path'] as string | undefined;
    if (path !== undefined) {
      const rewritten = action.rewritePath(path);
      if (rewritten !== path) {
        headers['x-envoy-original-path'] = path;
        headers[':path'] = rewritten;
      }
    }
    if (action.timeoutMs > 0 && !this.#isConnect) headers['x-envoy-expected-rq-timeout-ms'] = String(action.timeoutMs);

    const hasBody = !cb.endedOnHeaders;
    const dialOptions = {
      hops: cb.hops,
      downstreamFilterState: cb.downstreamFilterState,
      transportSocketOptions: autoTransportSocketOptions(cluster, headers, authority),
    };
    const open = (useHttp2: boolean): UpstreamRequest | undefined => {
      if (useHttp2) {
        const pool = cb.settings.http2Pools.for(cluster, host, dialOptions);
        const out: OutgoingHttpHeaders = { ':method': method, ':authority': authority };
        if (!this.#isConnect) {
          out[':scheme'] = headers[':scheme'] ?? 'http';
          out[':path'] = headers[':path'];
        }
        toHttp2Headers(headers, out as Record<string, string | string[] | number>);
        // The authority is :authority on HTTP/2; Expect was answered here (100-continue).
        delete out.host;
        delete out.expect;
        // TE is hop-by-hop, but `te: trailers` must reach an HTTP/2 upstream (gRPC).
        if (firstValue(headers, 'te') === 'trailers') out.te = 'trailers';
        return new Http2Upstream(pool, out, !hasBody && !this.#isConnect, this);
      }
      const release = trackUpstreamRequest(cluster, host);
      if (release === undefined) {
        this.onUpstreamReset('overflow', undefined);
        return undefined;
      }
      this.#release = release;
      const list = toHeaderList(headers, skipForHttp1);
      list.push('host', authority);
      const pool = cb.settings.http1Pools.for(cluster, host, dialOptions);
      return new Http1Upstream(
        pool,
        { method, path: this.#isConnect ? authority : (headers[':path'] as string), headers: list, hasBody: hasBody && !this.#isConnect },
        this,
      );
    };
    if (cluster.httpProtocol === 'auto') {
      // auto_config: the host's protocol is what ALPN chose on its first connection.
      const protocol = cb.settings.mixedPools.select(cluster, host, dialOptions);
      this.#upstream = typeof protocol === 'string' ? open(protocol === 'http2') : new DeferredUpstream(protocol.then((p) => (this.#upstreamComplete ? undefined : open(p === 'http2'))), this);
      return;
    }
    this.#upstream = open(cluster.httpProtocol === 'http2' || (cluster.httpProtocol === 'downstream' && cb.protocol === 'HTTP/2'));
  }

  // ---- upstream callbacks ----------------------------------------------------------------

  onUpstreamConnection(info: { connectionId: number; local: StreamInfo['upstreamLocalAddress']; remote: StreamInfo['upstreamRemoteAddress']; tls: StreamInfo['upstreamTls'] }): void {
    const streamInfo = this.#cb.streamInfo;
    streamInfo.upstreamTls = info.tls;
    streamInfo.upstreamConnectionId = info.connectionId;
    streamInfo.upstreamLocalAddress = info.local;
    streamInfo.upstreamRemoteAddress = info.remote;
  }

  onUpstreamHeaders(status: number, headers: HeaderMap, endStream: boolean): void {
    if (this.#destroyed) return;
    const cb = this.#cb;
    const streamInfo = cb.streamInfo;
    streamInfo.firstUpstreamRxByteMonotonicMs ??= performance.now();
    const requestCompleteMs = cb.requestCompleteMs;
    if (requestCompleteMs !== undefined) headers['x-envoy-upstream-service-time'] = String(Math.floor(performance.now() - requestCompleteMs));
    this.#chargeUpstreamCode(status);
    if (status < 500 && this.#host !== undefined) this.#host.stats.rq_success++;
    streamInfo.responseCodeDetails = ResponseCodeDetails.viaUpstream;
    this.#match.mutateResponseHeaders(headers, streamInfo);
    const tunnel = this.#isConnect && status >= 200 && status < 300;
    const contentType = firstValue(headers, 'content-type');
    const trailers = headers.trailer !== undefined || (contentType?.startsWith('application/grpc') ?? false);
    cb.encodeHeaders(status, headers, endStream, { tunnel, trailers, flush: this.#terminated || this.#isConnect });
    if (endStream) this.onUpstreamEnd(undefined);
  }

  onUpstreamData(chunk: Buffer): boolean {
    if (this.#destroyed) return true;
    return this.#cb.encodeData(chunk);
  }

  onUpstreamEnd(trailers: HeaderMap | undefined): void {
    if (this.#destroyed || this.#upstreamComplete) return;
    this.#upstreamComplete = true;
    if (this.#responseTimer !== undefined) clearTimeout(this.#responseTimer);
    const cb = this.#cb;
    const cluster = this.#cluster;
    if (cluster !== undefined) {
      cluster.stats.counters.upstream_rq_completed.inc();
      const since = cb.requestCompleteMs;
      if (since !== undefined) cluster.stats.upstream_rq_time.record(performance.now() - since);
    }
    // Envoy resets an upstream request whose response ended before the downstream request did;
    // the stream then ends the response and closes or resets the downstream side.
    if (!cb.requestComplete) this.#upstream?.reset();
    this.#release?.();
    cb.encodeEnd(trailers);
  }

  onUpstreamReset(reason: ResetReason, transportFailureReason: string | undefined): void {
    if (this.#destroyed || this.#upstreamComplete) return;
    this.#upstreamComplete = true;
    if (this.#responseTimer !== undefined) clearTimeout(this.#responseTimer);
    this.#release?.();
    const cb = this.#cb;
    const streamInfo = cb.streamInfo;
    if (transportFailureReason !== undefined) streamInfo.upstreamTransportFailureReason = transportFailureReason;
    const cluster = this.#cluster;
    if (reason === 'remote reset') cluster?.stats.counters.upstream_rq_rx_reset.inc();
    streamInfo.setResponseFlag(resetReasonFlag(reason));
    if (cb.responseStarted) {
      cb.settings.stats.counters.rq_reset_after_downstream_response_started.inc();
      streamInfo.responseCodeDetails = upstreamResetDetails(reason, transportFailureReason, true);
      // RFC 9113 §8.5: a CONNECT whose TCP connection failed is reset with CONNECT_ERROR.
      cb.resetStream(this.#isConnect && (reason === 'connection termination' || reason === 'connection failure') ? 'connect_error' : 'no_error');
      return;
    }
    const status = reason === 'protocol error' ? 502 : 503;
    this.#chargeUpstreamCode(status);
    cb.sendLocalReply(
      status,
      upstreamResetBody(reason, transportFailureReason),
      upstreamResetDetails(reason, transportFailureReason, false),
      reason === 'overflow' ? { 'x-envoy-overloaded': 'true' } : undefined,
    );
  }

  onUpstreamRequestDrain(): void {
    if (!this.#destroyed) this.#cb.continueDecoding();
  }

  // ---- timeouts and stats ----------------------------------------------------------------

  #onResponseTimeout(): void {
    this.#responseTimer = undefined;
    if (this.#destroyed || this.#upstreamComplete) return;
    const cb = this.#cb;
    this.#upstreamComplete = true;
    this.#cluster?.stats.counters.upstream_rq_timeout.inc();
    if (this.#host !== undefined) this.#host.stats.rq_timeout++;
    this.#upstream?.reset();
    this.#release?.();
    cb.streamInfo.setResponseFlag('UT');
    if (cb.responseStarted) {
      cb.streamInfo.responseCodeDetails = ResponseCodeDetails.responseTimeout;
      cb.resetStream('no_error');
      return;
    }
    this.#chargeUpstreamCode(504);
    cb.sendLocalReply(504, 'upstream request timeout', ResponseCodeDetails.responseTimeout);
  }

  /** Envoy's chargeUpstreamCode: `upstream_rq_<code>` and `upstream_rq_<class>xx`, host rq_error for 5xx. */
  #chargeUpstreamCode(status: number): void {
    const cluster = this.#cluster;
    if (cluster === undefined) return;
    const counters = cluster.stats.counters;
    cluster.stats.responseCode(status).inc();
    if (status < 200) counters.upstream_rq_1xx.inc();
    else if (status < 300) counters.upstream_rq_2xx.inc();
    else if (status < 400) counters.upstream_rq_3xx.inc();
    else if (status < 500) counters.upstream_rq_4xx.inc();
    else {
      counters.upstream_rq_5xx.inc();
      if (this.#host !== undefined) this.#host.stats.rq_error++;
    }
  }
}

/** Headers an HTTP/1.1 upstream must not get from the request map (undici writes Host itself; Expect was answered here). */
function skipForHttp1(name: string): boolean {
  return name === 'host' || name === 'expect';
}
