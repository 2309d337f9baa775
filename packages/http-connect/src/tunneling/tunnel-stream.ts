import { Duplex } from 'node:stream';
import type { UpstreamConnection, UpstreamStream } from '@il/core';

type Callback = (error?: Error | null) => void;

/**
 * The byte stream TcpProxy sees for one HTTP tunnel (Envoy's HttpUpstream): it emits 'connect'
 * once the tunnel's response was valid, or fails with 'error' + 'close' before that. Nothing
 * written before 'connect' goes upstream until then. After 'connect':
 * - writes become DATA frames or raw HTTP/1.1 bytes, and end() becomes END_STREAM (HTTP/2) or
 *   the close of the whole connection (HTTP/1.1, which has no half-close);
 * - the upstream's END_STREAM ends the readable side (FIN to the client), while writes go on;
 * - an upstream that is gone (reset, connection lost) ends the readable side after what already
 *   arrived, then the stream closes: TcpProxy closes the downstream with FlushWrite, as Envoy does.
 * Subclasses bind it to an HTTP/2 stream or an HTTP/1.1 connection.
 */
export abstract class TunnelStream extends Duplex implements UpstreamStream {
  #established = false;
  /** The upstream can take no more bytes (reset, closed); later writes are dropped. */
  #gone = false;
  #resetRequested = false;
  /** A write TcpProxy made before the tunnel was up, held back until then. */
  #heldWrite: { chunk: Buffer; callback: Callback } | undefined;
  #heldFinal: Callback | undefined;
  /** The callback of a write the upstream has not taken yet (its buffer is full). */
  #blockedWrite: Callback | undefined;

  constructor() {
    super({ allowHalfOpen: true });
  }

  get established(): boolean {
    return this.#established;
  }

  /** The upstream connection carrying the tunnel, once known. */
  abstract get connection(): UpstreamConnection | undefined;

  /** Aborts the tunnel: an HTTP/2 stream reset, or the close of the HTTP/1.1 connection. */
  resetAndDestroy(): this {
    this.#resetRequested = true;
    return this.destroy();
  }

  /**
   * TcpProxy destroys a tunnel whose halves both ended; what was written and the END_STREAM may
   * still be queued here, so they are let out first (Envoy resets only a tunnel still open).
   */
  override destroy(error?: Error): this {
    if (error === undefined && !this.#resetRequested && this.#established && !this.#gone && this.writableEnded && !this.writableFinished && this.readableEnded) {
      return this;
    }
    return super.destroy(error);
  }

  // ---- for subclasses ---------------------------------------------------------------------

  /** Sends bytes upstream; false when the upstream's buffer is full (then call upstreamDrained()). */
  protected abstract writeUpstream(chunk: Buffer): boolean;
  /** The client's FIN: END_STREAM, or the end of an HTTP/1.1 connection. */
  protected abstract endUpstream(): void;
  protected abstract pauseUpstream(): void;
  protected abstract resumeUpstream(): void;
  /**
   * Tears the upstream down: `graceful` when both halves ended and what is queued should still go
   * out, `reset` when TcpProxy resets the tunnel (the client's RST: RST_STREAM, or a TCP RST on
   * HTTP/1.1), `close` otherwise.
   */
  protected abstract abortUpstream(mode: 'graceful' | 'close' | 'reset'): void;

  /** A valid response arrived: the tunnel carries data from now on. */
  protected markEstablished(): void {
    if (this.#established || this.destroyed) return;
    this.#established = true;
    this.emit('connect');
    const held = this.#heldWrite;
    this.#heldWrite = undefined;
    if (held !== undefined) this._write(held.chunk, 'binary', held.callback);
    const final = this.#heldFinal;
    this.#heldFinal = undefined;
    if (final !== undefined) this._final(final);
  }

  /** The tunnel could not be set up (bad response, reset, connection failure): TcpProxy counts UF. */
  protected failConnect(error: Error): void {
    if (this.#established || this.destroyed) return;
    this.#gone = true;
    this.destroy(error);
  }

  protected deliver(chunk: Buffer): void {
    if (!this.push(chunk)) this.pauseUpstream();
  }

  /** The upstream half-closed (END_STREAM, trailers): FIN to the client, writes go on. */
  protected upstreamEnded(): void {
    if (!this.readableEnded) this.push(null);
  }

  /**
   * The upstream reset the tunnel (RST_STREAM from the peer, a TCP RST on HTTP/1.1): TcpProxy resets
   * the client too, without the bytes still queued (Envoy 1.38+ propagates resets through tunnels).
   */
  protected upstreamReset(): void {
    if (!this.#established || this.destroyed) return;
    this.#gone = true;
    this.destroy(Object.assign(new Error('the tunnel was reset by the upstream'), { code: 'ECONNRESET' }));
  }

  /** The upstream can neither send nor receive any more. */
  protected upstreamGone(): void {
    if (!this.#established) return;
    this.#gone = true;
    this.upstreamDrained();
    this.upstreamEnded();
    // What already arrived is still read out before the stream closes.
    if (this.readableEnded) this.destroy();
    else this.once('end', () => this.destroy());
  }

  protected upstreamDrained(): void {
    const callback = this.#blockedWrite;
    this.#blockedWrite = undefined;
    callback?.();
  }

  // ---- Duplex -----------------------------------------------------------------------------

  override _read(): void {
    this.resumeUpstream();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: Callback): void {
    if (!this.#established) {
      this.#heldWrite = { chunk, callback };
      return;
    }
    if (this.#gone || chunk.length === 0 || this.writeUpstream(chunk)) {
      callback();
      return;
    }
    this.#blockedWrite = callback;
  }

  override _final(callback: Callback): void {
    if (!this.#established) {
      this.#heldFinal = callback;
      return;
    }
    if (!this.#gone) this.endUpstream();
    callback();
  }

  override _destroy(error: Error | null, callback: Callback): void {
    const graceful = error === null && !this.#resetRequested && this.#established && this.writableFinished && this.readableEnded;
    this.abortUpstream(this.#resetRequested ? 'reset' : graceful ? 'graceful' : 'close');
    callback(error);
  }
}

/** A tunnel refused before any connection is made (e.g. a hostname that renders to no valid authority). */
export class RefusedTunnelStream extends TunnelStream {
  constructor(error: Error) {
    super();
    setImmediate(() => this.failConnect(error));
  }

  get connection(): undefined {
    return undefined;
  }

  protected writeUpstream(): boolean {
    return true;
  }

  protected endUpstream(): void {
    // Nothing was opened.
  }

  protected pauseUpstream(): void {
    // Nothing was opened.
  }

  protected resumeUpstream(): void {
    // Nothing was opened.
  }

  protected abortUpstream(): void {
    // Nothing was opened.
  }
}
