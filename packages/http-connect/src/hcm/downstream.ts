import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import { constants as h2, type ServerHttp2Stream } from 'node:http2';
import type { Readable } from 'node:stream';
import type { ConnectionSocket, HeaderMap } from '@il/core';
import type { ConnectionWatermarks } from '../codec/http2-codec-socket.js';
import { resetStream } from '../codec/http2-reset.js';
import { Http2StreamWriter } from '../codec/http2-stream-writer.js';
import { toHeaderList, toHttp2Headers } from './headers.js';

export type DownstreamProtocol = 'HTTP/1.0' | 'HTTP/1.1' | 'HTTP/2';

/** How a stream is aborted: H2 RST_STREAM with NO_ERROR or CONNECT_ERROR (Envoy's reasonToReset); H1 closes the connection. */
export type DownstreamResetCode = 'no_error' | 'connect_error';

/**
 * How a stream ended: normally (false), by the client's RST_STREAM, with its connection, or with a
 * TCP RST of its connection (an HTTP/1.1 tunnel's client aborted).
 */
export type DownstreamAbort = false | 'reset' | 'disconnect' | 'connection_reset';

export interface RespondOptions {
  endStream: boolean;
  /** HTTP/1: close the connection after this response. */
  closeConnection: boolean;
  /** The payload that follows is raw (a CONNECT's 2xx). */
  tunnel: boolean;
  /** HTTP/2: trailers may follow the body. */
  trailers: boolean;
  /** Send the headers now rather than with the first payload (a terminated CONNECT or POST). */
  flush: boolean;
}

/** What a codec tells the stream that uses it. */
export interface DownstreamEvents {
  /** The response side can take more data again. */
  onDrain(): void;
  /**
   * The stream is over. `abort` says whether the client ended it early (before the response was
   * complete, and not because this side reset it): `reset` for an HTTP/2 RST_STREAM,
   * `disconnect` when the connection went away.
   */
  onClose(abort: DownstreamAbort): void;
}

/**
 * One request as the connection manager sees it, whatever the codec: its headers and body, and a
 * response encoder (Envoy's RequestDecoder/ResponseEncoder pair).
 */
export interface DownstreamStream {
  readonly protocol: DownstreamProtocol;
  /** Request payload: the body, or a tunnel's bytes. Ends with the client's END_STREAM or FIN. */
  readonly body: Readable;
  /** The request had no body (END_STREAM on the headers). */
  readonly endedOnHeaders: boolean;
  /** True once response headers went out. */
  readonly responseStarted: boolean;
  events: DownstreamEvents | undefined;
  /**
   * Sends the response headers. `closeConnection` (HTTP/1) marks the connection to close after
   * this response. `tunnel`: the payload that follows is raw (a CONNECT's 2xx).
   */
  respond(status: number, headers: HeaderMap, options: RespondOptions): void;
  /** Writes response payload; false means wait for onDrain. */
  write(chunk: Buffer): boolean;
  /** Ends the response (with trailers on HTTP/2 when `respond` announced them). */
  end(trailers?: HeaderMap): void;
  /** Aborts the stream: RST_STREAM on HTTP/2, closing the connection on HTTP/1. */
  reset(code: DownstreamResetCode): void;
}

function noop(): void {
  // A stray socket or stream error: the close that follows it is what counts.
}

/** An HTTP/1.x request through node:http (request / ServerResponse). */
export class Http1Exchange implements DownstreamStream {
  events: DownstreamEvents | undefined;
  readonly body: Readable;
  #finished = false;
  #reset = false;

  constructor(
    readonly protocol: DownstreamProtocol,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    readonly endedOnHeaders: boolean,
  ) {
    this.body = req;
    res.sendDate = false;
    req.on('error', noop);
    res.on('error', noop);
    res.on('drain', () => this.events?.onDrain());
    res.once('finish', () => {
      this.#finished = true;
    });
    res.once('close', () => this.events?.onClose(!this.#finished && !this.#reset ? 'disconnect' : false));
  }

  get responseStarted(): boolean {
    return this.res.headersSent;
  }

  respond(status: number, headers: HeaderMap, options: RespondOptions): void {
    const list = toHeaderList(headers);
    if (options.closeConnection) list.push('connection', 'close');
    else this.res.removeHeader('connection');
    this.res.writeHead(status, list);
    if (options.endStream) this.res.end();
    // node:http holds headers until the first body write; a tunnel's client waits for them first.
    else if (options.flush) this.res.flushHeaders();
  }

  write(chunk: Buffer): boolean {
    return this.res.write(chunk);
  }

  end(): void {
    // HTTP/1 trailers would need chunked encoding and a Trailer header announced up front; Envoy
    // drops them too unless enable_trailers is set.
    this.res.end();
  }

  reset(): void {
    if (this.#reset) return;
    this.#reset = true;
    this.res.destroy();
  }
}

const CRLF = '\r\n';

/**
 * An HTTP/1.1 CONNECT: node:http hands over the raw socket after the request head ('connect'),
 * and the response is written here. A 2xx is `HTTP/1.1 200 OK` without Content-Length or
 * Transfer-Encoding, then raw bytes both ways; any other answer closes the connection after it.
 */
export class Http1Tunnel implements DownstreamStream {
  readonly protocol: DownstreamProtocol;
  readonly endedOnHeaders = false;
  events: DownstreamEvents | undefined;
  readonly body: Readable;
  #started = false;
  #finished = false;
  #reset = false;

  constructor(
    protocol: DownstreamProtocol,
    private readonly socket: ConnectionSocket,
    head: Buffer,
  ) {
    this.protocol = protocol;
    this.body = socket;
    if (head.length > 0) socket.unshift(head);
    let connectionReset = false;
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ECONNRESET') connectionReset = true;
    });
    socket.on('drain', () => this.events?.onDrain());
    // The connection manager does not half-close HTTP/1 connections: a FIN from the client ends
    // the tunnel, and the upstream is closed with it (Envoy: RemoteClose resets the stream).
    socket.once('end', () => socket.destroy());
    socket.once('close', () => this.events?.onClose(this.#finished || this.#reset ? false : connectionReset ? 'connection_reset' : 'disconnect'));
  }

  get responseStarted(): boolean {
    return this.#started;
  }

  respond(status: number, headers: HeaderMap, options: RespondOptions): void {
    this.#started = true;
    let head = `HTTP/1.1 ${status} ${reasonPhrase(status)}${CRLF}`;
    const list = toHeaderList(headers);
    for (let i = 0; i < list.length; i += 2) head += `${list[i] as string}: ${list[i + 1] as string}${CRLF}`;
    if (!options.tunnel) {
      // A refused CONNECT: whatever the client sends next is not HTTP this side will parse.
      if (headers['content-length'] === undefined && options.endStream) head += `content-length: 0${CRLF}`;
      head += `connection: close${CRLF}`;
    }
    this.socket.write(head + CRLF);
    if (options.endStream) this.end();
  }

  write(chunk: Buffer): boolean {
    if (this.socket.destroyed) return true;
    return this.socket.write(chunk);
  }

  /**
   * The tunnel (or the refusal) is over: there is no more HTTP on this connection, so it closes
   * once what was written is flushed (Envoy's FlushWrite close).
   */
  end(): void {
    if (this.#finished) return;
    this.#finished = true;
    if (!this.socket.destroyed) this.socket.destroySoon();
  }

  reset(): void {
    if (this.#reset) return;
    this.#reset = true;
    this.socket.destroy();
  }
}

/** node:http2 settles RST_STREAM codes with these numbers. */
const RESET_CODES: Record<DownstreamResetCode, number> = {
  no_error: h2.NGHTTP2_NO_ERROR,
  connect_error: h2.NGHTTP2_CONNECT_ERROR,
};

/** One HTTP/2 stream through node:http2's core API. */
export class Http2Exchange implements DownstreamStream {
  readonly protocol: DownstreamProtocol = 'HTTP/2';
  events: DownstreamEvents | undefined;
  readonly body: Readable;
  readonly #writer: Http2StreamWriter;
  #ended = false;
  #reset = false;
  #trailers: HeaderMap | undefined;

  constructor(
    private readonly stream: ServerHttp2Stream,
    readonly endedOnHeaders: boolean,
    watermarks: ConnectionWatermarks | undefined,
  ) {
    this.body = stream;
    stream.on('error', noop);
    this.#writer = new Http2StreamWriter(stream, watermarks, () => this.events?.onDrain());
    stream.on('wantTrailers', () => {
      const trailers = this.#trailers;
      try {
        stream.sendTrailers(trailers === undefined ? {} : toHttp2Headers(trailers, {}));
      } catch {
        resetStream(stream, h2.NGHTTP2_INTERNAL_ERROR);
      }
    });
    // node:http2 detaches a stream from its session before 'close'.
    const session = stream.session;
    const abortKind = (): DownstreamAbort => (session === undefined || session.destroyed || session.closed ? 'disconnect' : 'reset');
    // The peer's RST_STREAM: node:http2 says 'aborted', then ends the request body as if END_STREAM
    // had come. The stream is over now, so that end never reaches the upstream as a clean one.
    stream.once('aborted', () => {
      if (!this.#reset) this.events?.onClose(abortKind());
    });
    stream.once('close', () => {
      // A stream closed before this side ended its response, or reset by the peer, was aborted there.
      const peerReset = stream.rstCode !== h2.NGHTTP2_NO_ERROR && !this.#reset;
      if (this.#reset || (this.#ended && !peerReset)) this.events?.onClose(false);
      else this.events?.onClose(abortKind());
    });
  }

  get responseStarted(): boolean {
    return this.stream.headersSent;
  }

  respond(status: number, headers: HeaderMap, options: RespondOptions): void {
    if (this.stream.closed || this.stream.destroyed) return;
    const out = toHttp2Headers(headers, { [h2.HTTP2_HEADER_STATUS]: status });
    this.stream.respond(out, { endStream: options.endStream, waitForTrailers: options.trailers && !options.endStream });
    if (options.endStream) this.#ended = true;
  }

  write(chunk: Buffer): boolean {
    if (this.stream.destroyed) return true;
    return this.#writer.write(chunk);
  }

  end(trailers?: HeaderMap): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#trailers = trailers;
    if (!this.stream.destroyed) this.stream.end();
  }

  reset(code: DownstreamResetCode): void {
    if (this.#reset) return;
    this.#reset = true;
    resetStream(this.stream, RESET_CODES[code]);
  }
}

function reasonPhrase(status: number): string {
  return STATUS_CODES[status] ?? 'Unknown';
}
