import diagnostics from 'node:diagnostics_channel';
import { Readable, type Duplex } from 'node:stream';
import type { Dispatcher, Pool } from 'undici';
import { connectionAddresses, connectionTlsInfo, type HeaderMap } from '@il/core';
import type { HeaderList } from '../hcm/headers.js';
import { upstreamConnectionOf } from './http1-pools.js';
import { UpstreamConnectError, type UpstreamCallbacks, type UpstreamRequest } from './upstream.js';

export interface Http1RequestHead {
  method: string;
  /** The request-target: a path, or `host:port` for CONNECT. */
  path: string;
  /** Header list including `host`; no hop-by-hop headers. */
  headers: HeaderList;
  /** Whether payload follows the headers (streamed from `write()` until `end()`). */
  hasBody: boolean;
}

/** undici's own errors that mean the connection died under the request. */
const TERMINATION_CODES = new Set(['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE', 'UND_ERR_CLOSED', 'UND_ERR_DESTROYED']);
/** ...and the ones that mean the upstream spoke broken HTTP. */
const PROTOCOL_CODES = new Set(['UND_ERR_INFO', 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH', 'UND_ERR_HEADERS_OVERFLOW', 'UND_ERR_RES_EXCEEDED_MAX_SIZE']);

/**
 * An HTTP/1.1 request through an undici Pool, streamed both ways with backpressure: the request
 * body is a Readable that undici pulls from (and that pauses the downstream when full); response
 * data pauses undici when the downstream cannot take more. A CONNECT (proxy mode) becomes a raw
 * tunnel over the upstream socket once undici hands it over.
 */
export class Http1Upstream implements UpstreamRequest {
  readonly #callbacks: UpstreamCallbacks;
  #body: Readable | undefined;
  #controller: Dispatcher.DispatchController | undefined;
  #tunnel: Duplex | undefined;
  #done = false;
  #responseEnded = false;

  constructor(pool: Pool, head: Http1RequestHead, callbacks: UpstreamCallbacks) {
    this.#callbacks = callbacks;
    const isConnect = head.method === 'CONNECT';
    if (head.hasBody && !isConnect) {
      this.#body = new Readable({ read: () => this.#callbacks.onUpstreamRequestDrain() });
      // Aborting the request destroys the body; that is not an error anyone waits for.
      this.#body.on('error', () => undefined);
    }
    const options: Dispatcher.DispatchOptions = {
      method: head.method,
      path: head.path,
      headers: head.headers,
      body: this.#body ?? null,
      headersTimeout: 0,
      bodyTimeout: 0,
    };
    pool.dispatch(options, this.#handler());
  }

  write(chunk: Buffer): boolean {
    if (this.#done) return true;
    if (this.#tunnel !== undefined) return this.#tunnel.write(chunk);
    return this.#body?.push(chunk) ?? true;
  }

  end(): void {
    if (this.#done) return;
    if (this.#tunnel !== undefined) this.#tunnel.end();
    else this.#body?.push(null);
  }

  resumeResponse(): void {
    if (this.#tunnel !== undefined) this.#tunnel.resume();
    else this.#controller?.resume();
  }

  reset(): void {
    if (this.#done) return;
    this.#done = true;
    this.#tunnel?.destroy();
    if (this.#controller !== undefined && !this.#controller.aborted && !this.#responseEnded) this.#controller.abort(new Error('upstream request reset by the router'));
    this.#body?.destroy();
  }

  #handler(): Dispatcher.DispatchHandler {
    return {
      onRequestStart: (controller) => {
        this.#controller = controller;
        if (this.#done) controller.abort(new Error('upstream request reset by the router'));
        else markStarting(this);
      },
      onRequestUpgrade: (_controller, statusCode, headers, socket) => this.#onTunnel(statusCode, headers, socket),
      onResponseStart: (_controller, statusCode, headers) => {
        if (this.#done || statusCode < 200) return;
        this.#callbacks.onUpstreamHeaders(statusCode, headers, false);
      },
      onResponseData: (controller, chunk) => {
        if (this.#done) return;
        if (!this.#callbacks.onUpstreamData(chunk)) controller.pause();
      },
      onResponseEnd: (_controller, trailers) => {
        if (this.#done) return;
        this.#responseEnded = true;
        this.#done = true;
        this.#callbacks.onUpstreamEnd(Object.keys(trailers).length === 0 ? undefined : trailers);
      },
      onResponseError: (_controller, error) => {
        if (this.#done) return;
        this.#done = true;
        this.#body?.destroy();
        if (error instanceof UpstreamConnectError) {
          this.#callbacks.onUpstreamReset(error.reason, error.transportFailureReason);
          return;
        }
        const code = (error as NodeJS.ErrnoException).code ?? '';
        if (PROTOCOL_CODES.has(code) || code.startsWith('HPE_')) this.#callbacks.onUpstreamReset('protocol error', undefined);
        else if (TERMINATION_CODES.has(code)) this.#callbacks.onUpstreamReset('connection termination', undefined);
        else this.#callbacks.onUpstreamReset('local reset', undefined);
      },
    };
  }

  /** The socket undici writes this request on (from its sendHeaders diagnostics message). */
  onSocket(socket: Duplex): void {
    const connection = upstreamConnectionOf(socket);
    if (connection === undefined) return;
    const addresses = connectionAddresses(socket);
    this.#callbacks.onUpstreamConnection({ connectionId: connection.id, local: addresses.local, remote: addresses.remote, tls: connectionTlsInfo(connection.socket) });
  }

  /** CONNECT answered: from here the upstream socket is a raw byte stream. */
  #onTunnel(statusCode: number, headers: HeaderMap, socket: Duplex): void {
    if (this.#done) {
      socket.destroy();
      return;
    }
    this.#tunnel = socket;
    let ended = false;
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      if (!this.#done && !this.#callbacks.onUpstreamData(chunk)) socket.pause();
    });
    socket.on('drain', () => this.#callbacks.onUpstreamRequestDrain());
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
    this.#callbacks.onUpstreamHeaders(statusCode, headers, false);
  }
}

/**
 * undici calls a request's onRequestStart and then publishes `undici:client:sendHeaders` with the
 * socket, synchronously, in the same call (client-h1 writeH1): the request that started last is
 * the one whose socket the message names. Only sockets of il's pools count.
 */
let starting: Http1Upstream | undefined;
function markStarting(upstream: Http1Upstream): void {
  starting = upstream;
}
diagnostics.subscribe('undici:client:sendHeaders', (message) => {
  const upstream = starting;
  starting = undefined;
  const socket = (message as { socket?: Duplex }).socket;
  if (upstream !== undefined && socket !== undefined) upstream.onSocket(socket);
});
