import type { Duplex } from 'node:stream';
import type { ConnectionSocket, HeaderMap } from '@il/core';
import { appendValue, isHopByHop } from '../hcm/headers.js';
import type { ResetReason } from '../hcm/local-reply.js';
import type { Http1BodyFraming, Http1Connection, Http1ConnectionPool, Http1Exchange, Http1PendingRequest } from './http1-connection.js';
import type { UpstreamCallbacks, UpstreamRequest } from './upstream.js';

/** An HTTP/1.1 request as the router hands it over: the head, ready for the wire. */
export interface Http1RequestHead {
  method: string;
  /** The request line and every header line, through the blank line that ends the head. */
  head: string;
  framing: Http1BodyFraming;
}

/** Methods whose requests carry a payload by definition: an empty one is sent as `content-length: 0` (as undici does). */
const EXPECTS_PAYLOAD = new Set(['PUT', 'POST', 'PATCH', 'QUERY', 'PROPFIND', 'PROPPATCH']);
/** What a header value may hold on the wire (node:http's and undici's check). */
const INVALID_HEADER_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
const TOKEN = /^[\^_`a-zA-Z\-0-9!#$%&'*+.|~]+$/;

/**
 * The head of an HTTP/1.1 request to an upstream: request line, `host`, `connection` (keep-alive,
 * or close for CONNECT), the headers (pseudo-headers, hop-by-hop ones, Host and Expect left out)
 * and the body framing: the client's content-length when it gave one, else chunked. Returns
 * undefined for a header name or value that cannot go on the wire.
 */
export function http1RequestHead(method: string, target: string, authority: string, headers: HeaderMap, hasBody: boolean): Http1RequestHead | undefined {
  const isConnect = method === 'CONNECT';
  let head = `${method} ${target} HTTP/1.1\r\nhost: ${authority}\r\n${isConnect ? 'connection: close' : 'connection: keep-alive'}\r\n`;
  let contentLength: string | undefined;
  for (const name in headers) {
    if (name.charCodeAt(0) === 58 /* ':' */ || isHopByHop(name) || name === 'host' || name === 'expect') continue;
    const value = headers[name];
    if (value === undefined) continue;
    if (name === 'content-length') {
      contentLength = typeof value === 'string' ? value : value[0];
      continue;
    }
    if (!TOKEN.test(name)) return undefined;
    if (typeof value === 'string') {
      if (INVALID_HEADER_VALUE.test(value)) return undefined;
      head += `${name}: ${value}\r\n`;
    } else {
      for (const v of value) {
        if (INVALID_HEADER_VALUE.test(v)) return undefined;
        head += `${name}: ${v}\r\n`;
      }
    }
  }
  let framing: Http1BodyFraming = 'none';
  if (isConnect) {
    // The payload is the tunnel's, after the answer.
  } else if (hasBody) {
    if (contentLength !== undefined) {
      if (INVALID_HEADER_VALUE.test(contentLength)) return undefined;
      head += `content-length: ${contentLength}\r\n`;
      framing = 'length';
    } else {
      head += 'transfer-encoding: chunked\r\n';
      framing = 'chunked';
    }
  } else if (EXPECTS_PAYLOAD.has(method)) {
    head += 'content-length: 0\r\n';
  }
  return { method, head: `${head}\r\n`, framing };
}

/** Response header pairs as a header map: names lower-cased, repeated ones as lists. */
function headerMapOf(pairs: readonly string[]): HeaderMap {
  const headers = Object.create(null) as HeaderMap;
  for (let i = 0; i + 1 < pairs.length; i += 2) appendValue(headers, (pairs[i] as string).toLowerCase(), pairs[i + 1] as string);
  return headers;
}

/**
 * An HTTP/1.1 request on a pooled connection (http1-connection.ts), streamed both ways with
 * backpressure: request payload is written to the connection (buffered only while the pool finds
 * one), response data pauses the connection when the downstream cannot take more. A CONNECT
 * (proxy mode) becomes a raw tunnel over the upstream socket once answered.
 */
export class Http1Upstream implements UpstreamRequest, Http1Exchange, Http1PendingRequest {
  readonly #callbacks: UpstreamCallbacks;
  readonly #pool: Http1ConnectionPool;
  readonly #request: Http1RequestHead;
  #connection: Http1Connection | undefined;
  /** Payload that arrived before a connection did. */
  #pending: Buffer[] | undefined;
  #pendingEnd = false;
  #tunnel: Duplex | undefined;
  #done = false;

  constructor(pool: Http1ConnectionPool, request: Http1RequestHead, callbacks: UpstreamCallbacks) {
    this.#callbacks = callbacks;
    this.#pool = pool;
    this.#request = request;
    pool.request(this);
  }

  get #finished(): boolean {
    return this.#done;
  }

  // ---- the router's side -----------------------------------------------------------------

  write(chunk: Buffer): boolean {
    if (this.#done) return true;
    if (this.#tunnel !== undefined) return this.#tunnel.write(chunk);
    const connection = this.#connection;
    if (connection === undefined || this.#request.method === 'CONNECT') {
      (this.#pending ??= []).push(chunk);
      return false;
    }
    return connection.writeBody(chunk);
  }

  end(): void {
    if (this.#done) return;
    if (this.#tunnel !== undefined) this.#tunnel.end();
    else if (this.#connection === undefined || this.#request.method === 'CONNECT') this.#pendingEnd = true;
    else this.#connection.endBody();
  }

  resumeResponse(): void {
    if (this.#tunnel !== undefined) this.#tunnel.resume();
    else this.#connection?.resume();
  }

  reset(): void {
    if (this.#done) return;
    this.#done = true;
    this.#pending = undefined;
    if (this.#tunnel !== undefined) this.#tunnel.destroy();
    else if (this.#connection !== undefined) this.#connection.abort(this);
    else this.#pool.cancel(this);
  }

  // ---- the pool's side -------------------------------------------------------------------

  attach(connection: Http1Connection): void {
    if (this.#done) {
      // Reset while it waited: the connection goes back untouched.
      this.#pool.release(connection);
      return;
    }
    this.#connection = connection;
    const request = this.#request;
    connection.send(this, request.head, request.method, request.framing);
    if (request.method === 'CONNECT') return;
    const pending = this.#pending;
    if (pending !== undefined) {
      this.#pending = undefined;
      for (const chunk of pending) connection.writeBody(chunk);
    }
    if (this.#pendingEnd) connection.endBody();
    else if (pending !== undefined && !connection.socket.writableNeedDrain) this.#callbacks.onUpstreamRequestDrain();
  }

  fail(reason: ResetReason, transportFailureReason: string | undefined): void {
    this.onFailure(reason, transportFailureReason);
  }

  // ---- the connection's side -------------------------------------------------------------

  onConnection(connection: Http1Connection): void {
    const addresses = connection.addresses;
    this.#callbacks.onUpstreamConnection({ connectionId: connection.upstream.id, local: addresses.local, remote: addresses.remote });
  }

  onResponseHead(status: number, headers: string[]): void {
    if (this.#done) return;
    this.#callbacks.onUpstreamHeaders(status, headerMapOf(headers), false);
  }

  onResponseBody(chunk: Buffer): void {
    if (this.#done) return;
    if (!this.#callbacks.onUpstreamData(chunk)) this.#connection?.pause();
  }

  onResponseEnd(trailers: string[] | undefined): void {
    if (this.#done) return;
    this.#done = true;
    this.#callbacks.onUpstreamEnd(trailers === undefined || trailers.length === 0 ? undefined : headerMapOf(trailers));
  }

  onFailure(reason: ResetReason, transportFailureReason: string | undefined): void {
    if (this.#done) return;
    this.#done = true;
    this.#pending = undefined;
    this.#callbacks.onUpstreamReset(reason, transportFailureReason);
  }

  onWritable(): void {
    if (!this.#done) this.#callbacks.onUpstreamRequestDrain();
  }

  /** CONNECT answered: from here the upstream socket is a raw byte stream. */
  onTunnel(status: number, headers: string[], socket: ConnectionSocket, rest: Buffer): void {
    this.#connection = undefined;
    if (this.#done) {
      socket.destroy();
      return;
    }
    this.#tunnel = socket;
    let ended = false;
    socket.on('data', (chunk: Buffer) => {
      if (!this.#done && !this.#callbacks.onUpstreamData(chunk)) socket.pause();
    });
    socket.on('drain', () => {
      if (!this.#done) this.#callbacks.onUpstreamRequestDrain();
    });
    socket.once('end', () => {
      ended = true;
      if (this.#done) return;
      this.#done = true;
      this.#callbacks.onUpstreamEnd(undefined);
    });
    socket.once('close', () => {
      if (this.#done || ended) return;
      this.#done = true;
      this.#callbacks.onUpstreamReset('connection termination', undefined);
    });
    this.#callbacks.onUpstreamHeaders(status, headerMapOf(headers), false);
    // The router may have reset the request from its headers callback.
    if (this.#finished) return;
    if (rest.length > 0 && !this.#callbacks.onUpstreamData(rest)) {
      // The downstream is full already: resumeResponse() lets the rest flow.
    } else {
      socket.resume();
    }
    // Payload the client sent before the answer (a 2xx opened the tunnel; any other answer drops it).
    const pending = this.#pending;
    this.#pending = undefined;
    if (status >= 200 && status < 300) {
      if (pending !== undefined) for (const chunk of pending) socket.write(chunk);
      if (this.#pendingEnd) socket.end();
      else if (pending !== undefined && !socket.writableNeedDrain) this.#callbacks.onUpstreamRequestDrain();
    }
  }
}
