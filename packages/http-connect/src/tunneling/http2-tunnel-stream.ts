import { constants, type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders, type IncomingHttpStatusHeader, type OutgoingHttpHeaders } from 'node:http2';
import type { UpstreamConnection } from '@il/core';
import { resetStream } from '../codec/http2-reset.js';
import { Http2StreamWriter } from '../codec/http2-stream-writer.js';
import type { Http2ConnectionPool } from '../upstream/http2-connection-pool.js';
import { TunnelStream } from './tunnel-stream.js';
import { TunnelResponseHeaderMap } from './tunnel-response-headers.js';

export interface TunnelResponseObserver {
  /** Every final response's headers, valid or not (propagate_response_headers). */
  onHeaders(headers: TunnelResponseHeaderMap): void;
  onTrailers(trailers: TunnelResponseHeaderMap): void;
}

/**
 * A tunnel over one stream of a pooled HTTP/2 connection: CONNECT (classic, no :protocol) or
 * POST. Valid only with exactly `:status 200` on HEADERS without END_STREAM.
 */
export class Http2TunnelStream extends TunnelStream {
  readonly #pool: Http2ConnectionPool;
  readonly #observer: TunnelResponseObserver;
  readonly #abort = new AbortController();
  #stream: ClientHttp2Stream | undefined;
  #connection: UpstreamConnection | undefined;
  #writer: Http2StreamWriter | undefined;
  #endSent = false;
  #endReceived = false;

  constructor(pool: Http2ConnectionPool, headers: OutgoingHttpHeaders, observer: TunnelResponseObserver) {
    super();
    this.#pool = pool;
    this.#observer = observer;
    pool.request(headers, { signal: this.#abort.signal }).then(
      (stream) => this.#attach(stream),
      (error: unknown) => this.failConnect(error instanceof Error ? error : new Error(String(error))),
    );
  }

  get connection(): UpstreamConnection | undefined {
    return this.#connection;
  }

  #attach(stream: ClientHttp2Stream): void {
    if (this.destroyed) {
      resetStream(stream, constants.NGHTTP2_CANCEL);
      return;
    }
    this.#stream = stream;
    this.#connection = this.#pool.connectionOf(stream);
    this.#writer = new Http2StreamWriter(stream, this.#pool.watermarksOf(stream), () => this.upstreamDrained());
    stream.on('error', () => undefined);
    stream.once('response', (headers: IncomingHttpHeaders & IncomingHttpStatusHeader, flags: number) => {
      this.#observer.onHeaders(TunnelResponseHeaderMap.fromNode(headers));
      const status = headers[':status'];
      if (status === 200 && (flags & constants.NGHTTP2_FLAG_END_STREAM) === 0) {
        this.markEstablished();
        // Read only once the headers are in (see Http2Upstream: DATA can be pushed before 'response').
        stream.on('data', (chunk: Buffer) => this.deliver(chunk));
        return;
      }
      const why = status === 200 ? 'response headers ended the stream' : `response status ${String(status)}`;
      resetStream(stream, constants.NGHTTP2_CANCEL);
      this.failConnect(new Error(`tunnel refused: ${why}`));
    });
    stream.once('trailers', (trailers: IncomingHttpHeaders) => this.#observer.onTrailers(TunnelResponseHeaderMap.fromNode(trailers)));
    stream.once('end', () => {
      this.#endReceived = true;
      this.upstreamEnded();
    });
    // node:http2 detaches a stream from its session before 'close'.
    const session = stream.session as ClientHttp2Session;
    stream.once('close', () => {
      if (!this.established) {
        this.failConnect(new Error(`tunnel stream closed before a response (HTTP/2 error code ${stream.rstCode})`));
        return;
      }
      // A clean end both ways closes the stream with NO_ERROR. The peer's RST_STREAM before its
      // END_STREAM is a reset, and the client is reset too; after it, what arrived is complete and
      // is let out (Envoy 1.39). A connection that went away takes the stream with it.
      if (stream.rstCode !== constants.NGHTTP2_NO_ERROR && !this.#endReceived && !session.destroyed) this.upstreamReset();
      else if (stream.rstCode !== constants.NGHTTP2_NO_ERROR || !this.#endSent || !this.#endReceived) this.upstreamGone();
    });
  }

  protected writeUpstream(chunk: Buffer): boolean {
    const stream = this.#stream;
    if (stream === undefined || stream.destroyed || this.#writer === undefined) return true;
    return this.#writer.write(chunk);
  }

  protected endUpstream(): void {
    this.#endSent = true;
    this.#stream?.end();
  }

  protected pauseUpstream(): void {
    this.#stream?.pause();
  }

  protected resumeUpstream(): void {
    this.#stream?.resume();
  }

  protected abortUpstream(mode: 'graceful' | 'close' | 'reset'): void {
    const stream = this.#stream;
    if (stream === undefined) {
      this.#abort.abort();
      return;
    }
    if (mode !== 'graceful') resetStream(stream, constants.NGHTTP2_CANCEL);
  }
}
