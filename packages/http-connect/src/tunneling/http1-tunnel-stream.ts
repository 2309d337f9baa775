import type { UpstreamConnection } from '@il/core';
import { Http1ResponseHeadParser } from './http1-response-head.js';
import { TunnelStream } from './tunnel-stream.js';
import type { TunnelResponseObserver } from './http2-tunnel-stream.js';

/**
 * A tunnel over its own HTTP/1.1 connection, never reused: `CONNECT authority` with a raw
 * payload, or `POST path` with a chunked request body. Any 2xx response is valid; its
 * Content-Length and Transfer-Encoding are ignored and what follows the head is raw payload
 * (Envoy's H1 codec in TCP-tunneling mode). HTTP/1.1 has no half-close: the client's FIN
 * closes the whole connection once the bytes before it are written.
 */
export class Http1TunnelStream extends TunnelStream {
  readonly #connection: UpstreamConnection;
  readonly #chunked: boolean;
  readonly #observer: TunnelResponseObserver;
  #parser: Http1ResponseHeadParser | undefined = new Http1ResponseHeadParser();
  #socketError: Error | undefined;

  constructor(connection: UpstreamConnection, head: string, chunked: boolean, observer: TunnelResponseObserver) {
    super();
    this.#connection = connection;
    this.#chunked = chunked;
    this.#observer = observer;
    const socket = connection.socket;
    socket.on('error', (error: Error) => (this.#socketError ??= error));
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('drain', () => this.upstreamDrained());
    socket.once('close', () => {
      if (this.established) {
        // A TCP RST from the tunnel's peer resets the client too; a close lets what arrived out first.
        if ((this.#socketError as NodeJS.ErrnoException | undefined)?.code === 'ECONNRESET') this.upstreamReset();
        else this.upstreamGone();
        return;
      }
      const reason = this.#socketError?.message ?? 'upstream connection closed before the tunnel response';
      this.failConnect(new Error(reason));
    });
    // Written now; the socket sends it once connected.
    socket.write(head, 'latin1');
  }

  get connection(): UpstreamConnection {
    return this.#connection;
  }

  #onData(chunk: Buffer): void {
    const parser = this.#parser;
    if (parser === undefined) {
      this.deliver(chunk);
      return;
    }
    let rest: Buffer = chunk;
    for (;;) {
      const result = parser.push(rest);
      if (result.kind === 'incomplete') return;
      if (result.kind === 'error') {
        this.#connection.socket.destroy();
        this.failConnect(new Error(`tunnel refused: ${result.message}`));
        return;
      }
      rest = result.rest;
      // 1xx heads are informational; the final head follows.
      if (result.status >= 100 && result.status < 200) continue;
      this.#parser = undefined;
      this.#observer.onHeaders(result.headers);
      if (result.status < 200 || result.status > 299) {
        this.#connection.socket.destroy();
        this.failConnect(new Error(`tunnel refused: response status ${result.status}`));
        return;
      }
      this.markEstablished();
      if (rest.length > 0) this.deliver(rest);
      return;
    }
  }

  protected writeUpstream(chunk: Buffer): boolean {
    const socket = this.#connection.socket;
    if (socket.destroyed) return true;
    if (!this.#chunked) return socket.write(chunk);
    socket.cork();
    socket.write(`${chunk.length.toString(16)}\r\n`, 'latin1');
    socket.write(chunk);
    const more = socket.write('\r\n', 'latin1');
    socket.uncork();
    return more;
  }

  protected endUpstream(): void {
    const socket = this.#connection.socket;
    if (socket.destroyed) return;
    // The whole connection closes once what was written is out (Envoy's FlushWrite).
    socket.once('finish', () => socket.destroy());
    if (this.#chunked) socket.end('0\r\n\r\n', 'latin1');
    else socket.end();
  }

  protected pauseUpstream(): void {
    this.#connection.socket.pause();
  }

  protected resumeUpstream(): void {
    this.#connection.socket.resume();
  }

  protected abortUpstream(mode: 'graceful' | 'close' | 'reset'): void {
    const socket = this.#connection.socket;
    if (socket.destroyed) return;
    if (mode === 'graceful') socket.destroySoon();
    else if (mode === 'reset') socket.resetAndDestroy();
    else socket.destroy();
  }
}
