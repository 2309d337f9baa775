import { Duplex } from 'node:stream';
import type { ConnectionSocket } from '@il/core';

type Callback = (error?: Error | null) => void;

export interface Http2CodecSocketOptions {
  /**
   * The connection's write-buffer high watermark in bytes (Envoy's per_connection_buffer_limit_bytes):
   * above it the streams of the session are asked to stop producing; below half of it they go on.
   */
  highWatermarkBytes: number;
  /**
   * Bytes waiting to leave for this long with none of them taken by the peer: the connection is
   * stalled and is destroyed (0 disables).
   */
  stallTimeoutMs: number;
  /** Called once when the stall timeout destroys the connection (for its stat). */
  onStall?: (() => void) | undefined;
}

/** What a stream of a session sees of its connection's write buffer (Envoy's connection watermark callbacks). */
export interface ConnectionWatermarks {
  /** The connection's buffer limit, which is also each of its streams' (as in Envoy). */
  readonly highWatermarkBytes: number;
  readonly aboveHighWatermark: boolean;
  on(event: 'aboveHighWatermark' | 'belowLowWatermark', listener: () => void): this;
  off(event: 'aboveHighWatermark' | 'belowLowWatermark', listener: () => void): this;
}

/**
 * The transport a node:http2 session runs on, between the session and the connection's socket.
 *
 * node:http2 stops reading its socket while one of its writes is pending
 * (`Http2Session::MaybeStopReading`). Two such peers, each blocked writing to the other, never
 * read again: every stream of the connection stalls for good. Envoy keeps reading a connection
 * whatever its write buffer holds and bounds what it buffers with HTTP/2 flow control and the
 * connection's watermarks; this class gives a session the same footing:
 *
 * - A write is complete for the session as soon as the socket has it, so the session never waits
 *   on the peer to read and keeps reading (what it can send is bounded by the peer's HTTP/2
 *   windows, what it receives by the windows it advertised).
 * - The socket's write buffer has Envoy's watermarks: above `highWatermarkBytes` the session's
 *   streams are told to stop producing ('aboveHighWatermark'), and once the buffer is down to half
 *   ('belowLowWatermark') to go on. That is what bounds the bytes queued here.
 * - A connection whose queued bytes do not move for `stallTimeoutMs` is destroyed (its streams are
 *   reset), so a peer that stopped reading cannot hold tunnels, or swallow new ones, for ever.
 */
export class Http2CodecSocket extends Duplex implements ConnectionWatermarks {
  readonly socket: ConnectionSocket;
  readonly #highWatermark: number;
  readonly #lowWatermark: number;
  readonly #stallTimeoutMs: number;
  readonly #onStall: (() => void) | undefined;
  #above = false;
  /** When the socket last took queued bytes, or when bytes started queueing. */
  #progressAt = 0;
  #stallTimer: NodeJS.Timeout | undefined;
  #stalled = false;

  constructor(socket: ConnectionSocket, options: Http2CodecSocketOptions) {
    super({ allowHalfOpen: true, readableHighWaterMark: 64 * 1024, writableHighWaterMark: 64 * 1024 });
    this.socket = socket;
    this.#highWatermark = Math.max(1, options.highWatermarkBytes);
    this.#lowWatermark = Math.floor(this.#highWatermark / 2);
    this.#stallTimeoutMs = options.stallTimeoutMs;
    this.#onStall = options.onStall;
    // One listener per stream of the session.
    this.setMaxListeners(0);
    socket.on('data', this.#onData);
    socket.once('end', () => this.push(null));
    socket.on('drain', this.#onSocketDrain);
    socket.once('error', (error: Error) => this.destroy(error));
    socket.once('close', () => {
      // What the peer sent before its FIN is still read out by the session; an error (a reset)
      // already destroyed this side, as a kernel socket discards what it had.
      if (this.readableEnded || this.destroyed) this.destroy();
      else {
        this.push(null);
        this.once('end', () => this.destroy());
      }
    });
  }

  get highWatermarkBytes(): number {
    return this.#highWatermark;
  }

  get aboveHighWatermark(): boolean {
    return this.#above;
  }

  /** Bytes the socket holds that the peer has not taken yet. */
  get bufferedBytes(): number {
    return this.socket.writableLength;
  }

  /** True once the stall timeout destroyed the connection. */
  get stalled(): boolean {
    return this.#stalled;
  }

  #lastReceivedMs = performance.now();

  /** When the peer last sent anything (HTTP/2 keepalive counts every frame as a sign of life). */
  get lastReceivedMs(): number {
    return this.#lastReceivedMs;
  }

  readonly #onData = (chunk: Buffer): void => {
    this.#lastReceivedMs = performance.now();
    if (!this.push(chunk)) this.socket.pause();
  };

  override _read(): void {
    this.socket.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: Callback): void {
    this.#send(chunk);
    this.#afterSend();
    callback();
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, callback: Callback): void {
    const socket = this.socket;
    socket.cork();
    for (const { chunk } of chunks) this.#send(chunk);
    socket.uncork();
    this.#afterSend();
    callback();
  }

  override _final(callback: Callback): void {
    if (!this.socket.destroyed) this.socket.end();
    callback();
  }

  override _destroy(error: Error | null, callback: Callback): void {
    this.#clearStallTimer();
    this.socket.off('data', this.#onData);
    if (!this.socket.destroyed) {
      if (error === null) this.socket.destroy();
      else this.socket.destroy(error);
    }
    callback(error);
  }

  #send(chunk: Buffer): void {
    if (this.socket.destroyed) return;
    if (this.socket.writableLength === 0) this.#progressAt = performance.now();
    this.socket.write(chunk, this.#onFlushed);
  }

  #afterSend(): void {
    const buffered = this.socket.writableLength;
    if (buffered === 0) return;
    if (!this.#above && buffered > this.#highWatermark) {
      this.#above = true;
      this.emit('aboveHighWatermark');
    }
    if (this.#stallTimeoutMs > 0 && this.#stallTimer === undefined) this.#armStallTimer(this.#stallTimeoutMs);
  }

  /** A write reached the kernel (or the internal peer): the connection moves. */
  readonly #onFlushed = (): void => {
    this.#progressAt = performance.now();
    this.#checkLowWatermark();
  };

  readonly #onSocketDrain = (): void => {
    this.#progressAt = performance.now();
    this.#checkLowWatermark();
  };

  #checkLowWatermark(): void {
    if (this.#above && this.socket.writableLength <= this.#lowWatermark) {
      this.#above = false;
      this.emit('belowLowWatermark');
    }
  }

  #armStallTimer(delayMs: number): void {
    this.#stallTimer = setTimeout(this.#checkStall, Math.max(1, delayMs));
    this.#stallTimer.unref();
  }

  #clearStallTimer(): void {
    if (this.#stallTimer !== undefined) clearTimeout(this.#stallTimer);
    this.#stallTimer = undefined;
  }

  readonly #checkStall = (): void => {
    this.#stallTimer = undefined;
    if (this.destroyed || this.socket.writableLength === 0) return;
    const idleMs = performance.now() - this.#progressAt;
    if (idleMs < this.#stallTimeoutMs) {
      // The socket took bytes since: check again when that progress would be as old as the timeout.
      this.#armStallTimer(this.#stallTimeoutMs - idleMs + 1);
      return;
    }
    this.#stalled = true;
    this.#onStall?.();
    this.destroy(Object.assign(new Error(`HTTP/2 connection stalled: ${this.socket.writableLength} bytes not taken by the peer in ${this.#stallTimeoutMs} ms`), { code: 'ETIMEDOUT' }));
  };
}
