import { constants as h2, type ClientHttp2Stream, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';
import { connectionAddresses, connectionTlsInfo, type HeaderMap, type Host } from '@il/core';
import { resetStream } from '../codec/http2-reset.js';
import { Http2StreamWriter } from '../codec/http2-stream-writer.js';
import { connectFailureReason } from '../hcm/local-reply.js';
import { ConnectionPoolError, type Http2ConnectionPool } from '../upstream/index.js';
import { addressKind, type UpstreamCallbacks, type UpstreamRequest } from './upstream.js';

/**
 * A request (or classic CONNECT) on a pooled HTTP/2 stream. Payload is written to the stream with
 * its flow control; response data pauses the stream when the downstream is full. Request
 * payload that arrives while the pool finds a stream is buffered here (bounded by the caller).
 */
export class Http2Upstream implements UpstreamRequest {
  readonly #callbacks: UpstreamCallbacks;
  readonly #abort = new AbortController();
  #stream: ClientHttp2Stream | undefined;
  #writer: Http2StreamWriter | undefined;
  #pending: Buffer[] = [];
  #pendingEnd = false;
  #done = false;
  #trailers: HeaderMap | undefined;

  constructor(pool: Http2ConnectionPool, headers: OutgoingHttpHeaders, endStream: boolean, callbacks: UpstreamCallbacks) {
    this.#callbacks = callbacks;
    this.#pendingEnd = endStream;
    pool.request(headers, { endStream, signal: this.#abort.signal }).then(
      (stream) => this.#attach(pool, stream, endStream),
      (error: unknown) => this.#onPoolFailure(error, pool.host),
    );
  }

  write(chunk: Buffer): boolean {
    if (this.#done) return true;
    if (this.#writer === undefined) {
      this.#pending.push(chunk);
      return false;
    }
    return this.#writer.write(chunk);
  }

  end(): void {
    if (this.#done) return;
    if (this.#stream === undefined) this.#pendingEnd = true;
    else this.#stream.end();
  }

  resumeResponse(): void {
    this.#stream?.resume();
  }

  reset(): void {
    if (this.#done) return;
    this.#done = true;
    this.#abort.abort();
    const stream = this.#stream;
    if (stream !== undefined) resetStream(stream, h2.NGHTTP2_NO_ERROR);
  }

  #attach(pool: Http2ConnectionPool, stream: ClientHttp2Stream, endedOnHeaders: boolean): void {
    if (this.#done) {
      resetStream(stream, h2.NGHTTP2_NO_ERROR);
      return;
    }
    this.#stream = stream;
    this.#writer = new Http2StreamWriter(stream, pool.watermarksOf(stream), () => this.#callbacks.onUpstreamRequestDrain());
    const connection = pool.connectionOf(stream);
    if (connection !== undefined) {
      const addresses = connectionAddresses(connection.socket);
      this.#callbacks.onUpstreamConnection({ connectionId: connection.id, local: addresses.local, remote: addresses.remote, tls: connectionTlsInfo(connection.socket) });
    }
    let responded = false;
    let ended = false;
    stream.on('error', () => undefined);
    stream.on('response', (headers: IncomingHttpHeaders) => {
      if (this.#done) return;
      const status = Number(headers[h2.HTTP2_HEADER_STATUS]);
      responded = true;
      // END_STREAM on the headers arrives as 'end' right after: one way to finish a response.
      this.#callbacks.onUpstreamHeaders(status, withoutPseudo(headers), false);
      // The body is read only once the headers are in: node:http2 emits 'response' on the next
      // tick, and on a session over a JS stream a DATA frame read with the HEADERS frame is pushed
      // before that tick.
      stream.on('data', (chunk: Buffer) => {
        if (this.#done) return;
        if (!this.#callbacks.onUpstreamData(chunk)) stream.pause();
      });
    });
    stream.on('trailers', (trailers: IncomingHttpHeaders) => {
      this.#trailers = withoutPseudo(trailers);
    });
    stream.once('end', () => {
      ended = true;
      if (this.#done || !responded) return;
      this.#done = true;
      this.#callbacks.onUpstreamEnd(this.#trailers);
    });
    // node:http2 detaches a stream from its session before 'close'.
    const session = stream.session;
    stream.once('close', () => {
      if (this.#done || ended) return;
      this.#done = true;
      const code = stream.rstCode;
      if (code === h2.NGHTTP2_REFUSED_STREAM) this.#callbacks.onUpstreamReset('remote refused stream reset', undefined);
      else if (code === h2.NGHTTP2_CONNECT_ERROR) this.#callbacks.onUpstreamReset('remote error with CONNECT request', undefined);
      else if (code !== h2.NGHTTP2_NO_ERROR && session?.destroyed === false) this.#callbacks.onUpstreamReset('remote reset', undefined);
      else this.#callbacks.onUpstreamReset('connection termination', undefined);
    });
    // What arrived while the pool found this stream.
    for (const chunk of this.#pending) stream.write(chunk);
    this.#pending = [];
    if (this.#pendingEnd && !endedOnHeaders) stream.end();
    if (this.#writer.writable) this.#callbacks.onUpstreamRequestDrain();
  }

  #onPoolFailure(error: unknown, host: Host): void {
    if (this.#done) return;
    this.#done = true;
    if (!(error instanceof ConnectionPoolError)) {
      this.#callbacks.onUpstreamReset('local reset', undefined);
      return;
    }
    switch (error.reason) {
      case 'overflow':
        this.#callbacks.onUpstreamReset('overflow', undefined);
        return;
      case 'timeout':
        this.#callbacks.onUpstreamReset('connection timeout', undefined);
        return;
      default: {
        // The pool's message carries Node's error text (`connect ECONNREFUSED 127.0.0.1:1`).
        const code = /\b(E[A-Z]{3,})\b/.exec(error.message)?.[1];
        const reason = code === undefined ? undefined : connectFailureReason(Object.assign(new Error(error.message), { code }), addressKind(host));
        this.#callbacks.onUpstreamReset('connection failure', reason);
      }
    }
  }
}

function withoutPseudo(headers: IncomingHttpHeaders): HeaderMap {
  const out: HeaderMap = Object.create(null) as HeaderMap;
  for (const name in headers) {
    if (name.charCodeAt(0) === 58 /* ':' */) continue;
    const value = headers[name];
    if (value !== undefined) out[name] = value;
  }
  return out;
}
