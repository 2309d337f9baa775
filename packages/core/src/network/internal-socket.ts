import { Duplex } from 'node:stream';
import { enqueue, type Deliverable } from './delivery-queue.js';
import { brokenPipe, connectionReset, type SocketError } from './socket-errors.js';
import type { PassthroughState } from './passthrough-state.js';

/** Envoy's default `buffer_size_kb` (1024) in bytes. */
export const DEFAULT_BUFFER_SIZE_BYTES = 1024 * 1024;
/** Envoy's FRAGMENT: the most one write moves once the peer's buffer is at its high watermark. */
const FRAGMENT_BYTES = 16 * 1024;
/** Deliveries of many chunks up to this size are joined into one, so the reader sees one 'data'. */
const COALESCE_LIMIT_BYTES = 64 * 1024;

/** Envoy's address strings for the two ends of an internal connection. */
export const INTERNAL_CLIENT_ADDRESS = 'envoy://internal_client_address/';

type WriteCallback = (error?: Error | null) => void;

/** Registry-only operations; not part of the public surface. */
export const kAccept = Symbol('il.accept');
export const kConnected = Symbol('il.connected');
export const kFail = Symbol('il.fail');

export interface InternalSocketInit {
  /** High watermark of this socket's receive buffer in bytes; the low watermark is half of it. */
  bufferSizeBytes: number;
  localAddress: string;
  remoteAddress: string;
  allowHalfOpen: boolean;
  /** True for the connecting side: it stays `connecting` until the listener accepted. */
  client: boolean;
  /** How many internal hops this connection is into a chain (1 for a first hop). */
  hops: number;
  passthroughState: PassthroughState | undefined;
  writableHighWaterMark: number | undefined;
}

/**
 * One end of an in-process connection: a `Duplex` with the `net.Socket` surface that node:http,
 * node:http2, node:tls, undici and http.Agent use, and the semantics of Envoy's user-space
 * socket (envoy-behavior.md §2):
 *
 * - Each direction has a receive buffer with a high watermark H (`buffer_size_kb`) and a low
 *   watermark H/2. A write that takes the peer's buffer past H is held; `write()` returns false
 *   and 'drain' comes once the peer has read its buffer down to H/2.
 * - `end()` is shutdown(WR): the peer reads everything, then EOF, and may still write back.
 * - `destroy()` is close: the peer reads what was already sent, then EOF; its later writes fail
 *   with EPIPE. `destroy(err)` and `resetAndDestroy()` are RST: the peer fails with ECONNRESET.
 * - A writer blocked on a peer that closes learns of it (its write fails) instead of hanging:
 *   the bug behind Envoy issue #38148 cannot happen here.
 * - Bytes reach the peer after the writer's callback returns, never inside `write()`; under load
 *   the rest of a turn's writes arrive as one batch (see delivery-queue).
 *
 * Instances come from `InternalListenerRegistry.connect()` (client side) and are handed to the
 * listener's connection handler (server side).
 */
export class InternalSocket extends Duplex implements Deliverable {
  readonly localAddress: string;
  readonly remoteAddress: string;
  /** Internal connections have no ports or IP family, like a Unix socket. */
  readonly localPort: undefined = undefined;
  readonly remotePort: undefined = undefined;
  readonly remoteFamily: undefined = undefined;
  /** How many internal listeners deep this connection is; bounded by the registry. */
  readonly hops: number;
  /** State the connecting side passed to the accepting side (Envoy's internal_upstream passthrough). */
  readonly passthroughState: PassthroughState | undefined;
  /** True until the listener accepted the connection (client side only). */
  connecting: boolean;
  bytesRead = 0;
  bytesWritten = 0;

  #peer: InternalSocket | null = null;
  readonly #highWatermark: number;
  readonly #lowWatermark: number;
  /** Server sides receive nothing until accepted; client sides are open from the start. */
  #open: boolean;
  #queued = false;

  // Receive side: bytes the peer moved to us that are not yet pushed into the Readable.
  #inbox: Buffer[] = [];
  #inboxBytes = 0;
  #eofReceived = false;
  #eofPushed = false;
  #resetReceived = false;
  /** Set when our reader drained below the low watermark while the peer's writer waits. */
  #wakeWriter = false;

  // Send side: a write the peer's full buffer could not take yet.
  #pendingChunks: Buffer[] | null = null;
  #pendingIndex = 0;
  #pendingCallback: WriteCallback | null = null;
  #resetRequested = false;
  /** A write waits to fail with EPIPE until our reader has seen the peer's EOF. */
  #failurePending = false;
  /** write() returned false where Writable alone would have said true. */
  #owesDrain = false;

  #timeoutMs = 0;
  #timer: NodeJS.Timeout | null = null;

  constructor(init: InternalSocketInit) {
    super({
      allowHalfOpen: init.allowHalfOpen,
      // 'data' sized like a kernel socket's; the receive-buffer bound is enforced by the writer.
      readableHighWaterMark: Math.floor(init.bufferSizeBytes / 2) + 1,
      ...(init.writableHighWaterMark === undefined ? {} : { writableHighWaterMark: init.writableHighWaterMark }),
      emitClose: true,
      autoDestroy: true,
    });
    this.localAddress = init.localAddress;
    this.remoteAddress = init.remoteAddress;
    this.hops = init.hops;
    this.passthroughState = init.passthroughState;
    this.connecting = init.client;
    this.#open = init.client;
    this.#highWatermark = init.bufferSizeBytes;
    this.#lowWatermark = Math.floor(init.bufferSizeBytes / 2);
  }

  /** Links two fresh sockets as each other's peer. */
  static pair(client: InternalSocket, server: InternalSocket): void {
    client.#peer = server;
    server.#peer = client;
  }

  // ---- net.Socket surface -------------------------------------------------------------------

  get pending(): boolean {
    return this.connecting;
  }

  get readyState(): 'opening' | 'open' | 'readOnly' | 'writeOnly' | 'closed' {
    if (this.connecting) return 'opening';
    if (this.readable && this.writable) return 'open';
    if (this.readable) return 'readOnly';
    if (this.writable) return 'writeOnly';
    return 'closed';
  }

  /** The idle timeout set with `setTimeout`, in milliseconds (0 when none). */
  get timeout(): number {
    return this.#timeoutMs;
  }

  /** Bytes the peer sent that this side has not read yet (its receive buffer). */
  get receiveBufferBytes(): number {
    return this.#level();
  }

  /** Bytes of the current write that the peer's full buffer has not taken yet. */
  get pendingWriteBytes(): number {
    const chunks = this.#pendingChunks;
    if (chunks === null) return 0;
    let bytes = 0;
    for (let i = this.#pendingIndex; i < chunks.length; i++) bytes += (chunks[i] as Buffer).length;
    return bytes;
  }

  /** High watermark of this side's receive buffer (Envoy's buffer_size_kb * 1024). */
  get bufferSizeBytes(): number {
    return this.#highWatermark;
  }

  address(): { address: string; family: string; port: number } {
    return { address: this.localAddress, family: 'internal', port: 0 };
  }

  setNoDelay(_noDelay?: boolean): this {
    return this;
  }

  setKeepAlive(_enable?: boolean, _initialDelay?: number): this {
    return this;
  }

  /** An internal socket holds no OS handle, so it never keeps the process alive by itself. */
  ref(): this {
    return this;
  }

  unref(): this {
    return this;
  }

  /** Emits 'timeout' after `ms` without reads or writes, as net.Socket does; 0 disables it. */
  setTimeout(ms: number, callback?: () => void): this {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`The value of "msecs" is out of range: ${ms}`);
    this.#clearTimer();
    this.#timeoutMs = ms;
    if (callback !== undefined) {
      if (ms === 0) this.removeListener('timeout', callback);
      else this.once('timeout', callback);
    }
    if (ms > 0 && !this.destroyed) {
      this.#timer = setTimeout(() => {
        if (!this.destroyed) this.emit('timeout');
      }, ms);
      this.#timer.unref();
    }
    return this;
  }

  /** Ends the write side, then destroys once it has finished (net.Socket's destroySoon). */
  destroySoon(): void {
    if (this.writable) this.end();
    if (this.writableFinished) this.destroy();
    else this.once('finish', () => this.destroy());
  }

  /** Closes abortively: the peer sees ECONNRESET, as after a TCP RST. */
  resetAndDestroy(): this {
    this.#resetRequested = true;
    return this.destroy();
  }

  // ---- Duplex implementation ----------------------------------------------------------------

  /**
   * Returns false whenever a write is held (the peer is above its high watermark), whatever the
   * size of the chunk; 'drain' follows once the peer has read down to its low watermark.
   */
  override write(chunk: unknown, encoding?: BufferEncoding | WriteCallback, callback?: WriteCallback): boolean {
    // Fast path, the common case of a busy connection: a Buffer that the peer can take whole,
    // with nothing queued, held, corked or ended on our side. The bytes move now, exactly as
    // _write would move them, without Writable's per-write bookkeeping (it has nothing to track:
    // the write is complete when this returns). Everything else takes Writable's path below.
    const peer = this.#peer;
    if (
      peer !== null &&
      chunk instanceof Buffer &&
      this.#pendingCallback === null &&
      peer.#level() + chunk.length <= peer.#highWatermark &&
      this.writableLength === 0 &&
      this.writableCorked === 0 &&
      !this.writableEnded &&
      !this.destroyed
    ) {
      if (chunk.length > 0) {
        this.bytesWritten += chunk.length;
        peer.#receive(chunk);
        this.#touch();
      }
      // Writable calls back a write that completed synchronously on the next tick; so do we.
      const done = typeof encoding === 'function' ? encoding : callback;
      if (done !== undefined) process.nextTick(done, null);
      return true;
    }
    const ok = typeof encoding === 'function' ? super.write(chunk, encoding) : super.write(chunk, encoding as BufferEncoding, callback);
    if (!ok) return false;
    if (this.#pendingCallback === null) return true;
    this.#owesDrain = true;
    return false;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: WriteCallback): void {
    const peer = this.#peer;
    if (peer === null) {
      this.#failWrite([chunk], callback);
      return;
    }
    // Fast path: the whole chunk fits below the peer's high watermark.
    if (peer.#level() + chunk.length <= peer.#highWatermark) {
      this.bytesWritten += chunk.length;
      peer.#receive(chunk);
      this.#touch();
      callback();
      return;
    }
    this.#pendingChunks = [chunk];
    this.#pendingIndex = 0;
    this.#pendingCallback = callback;
    this.#continueWrite(peer);
  }

  override _writev(chunks: Array<{ chunk: Buffer; encoding: BufferEncoding }>, callback: WriteCallback): void {
    const buffers = chunks.map((c) => c.chunk);
    const peer = this.#peer;
    if (peer === null) {
      this.#failWrite(buffers, callback);
      return;
    }
    this.#pendingChunks = buffers;
    this.#pendingIndex = 0;
    this.#pendingCallback = callback;
    this.#continueWrite(peer);
  }

  override _read(): void {
    // Data is pushed when the peer writes (see deliver); there is nothing to pull.
  }

  /**
   * Every way of consuming a Readable (flowing mode, pipe, 'readable' + read()) goes through
   * read(), so this is where the reader is seen draining below the low watermark. (`_read` is
   * not enough: Readable stops calling it until the next push.) The held writer resumes in a
   * later delivery round, never inside this read() call.
   */
  override read(size?: number): unknown {
    const chunk: unknown = super.read(size);
    const writer = this.#peer;
    if (writer !== null && writer.#pendingCallback !== null && !writer.#wakeWriter && this.#level() <= this.#lowWatermark) {
      writer.#wakeWriter = true;
      writer.#schedule();
    }
    return chunk;
  }

  override _final(callback: WriteCallback): void {
    const peer = this.#peer;
    if (peer !== null) {
      peer.#eofReceived = true;
      peer.#schedule();
    }
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#clearTimer();
    this.connecting = false;
    this.#pendingChunks = null;
    this.#pendingCallback = null;
    this.#inbox = [];
    this.#inboxBytes = 0;
    const peer = this.#peer;
    this.#peer = null;
    if (peer !== null) {
      peer.#peer = null;
      if (error !== null || this.#resetRequested) peer.#resetReceived = true;
      else peer.#eofReceived = true;
      // A closed peer counts as writable: a write held on our buffer must learn that it failed.
      if (peer.#pendingCallback !== null) peer.#wakeWriter = true;
      peer.#schedule();
    }
    callback(error);
  }

  // ---- delivery (runs once per event-loop turn for a socket with news) ------------------------

  deliver(): void {
    this.#queued = false;
    if (this.destroyed) return;
    if (this.#resetReceived) {
      this.destroy(connectionReset());
      return;
    }
    const bytes = this.#inboxBytes;
    if (bytes > 0) {
      const chunks = this.#inbox;
      this.#inbox = [];
      this.#inboxBytes = 0;
      this.bytesRead += bytes;
      this.#touch();
      if (chunks.length === 1) {
        this.push(chunks[0]);
      } else if (bytes <= COALESCE_LIMIT_BYTES) {
        this.push(Buffer.concat(chunks, bytes));
      } else {
        for (const chunk of chunks) {
          this.push(chunk);
          if (this.#destroyedByHandler()) return;
        }
      }
      if (this.#destroyedByHandler()) return;
    }
    if (this.#eofReceived && !this.#eofPushed && this.#inboxBytes === 0) {
      this.#eofPushed = true;
      this.push(null);
      if (this.#destroyedByHandler()) return;
    }
    // Our reader kept up: a writer held on our buffer may go on.
    const writer = this.#peer;
    if (writer !== null && writer.#pendingCallback !== null && this.#level() <= this.#lowWatermark) {
      writer.#resumeWrite();
    }
    if (this.#wakeWriter) {
      this.#wakeWriter = false;
      if (this.#pendingCallback !== null) this.#resumeWrite();
    }
  }

  // ---- registry operations --------------------------------------------------------------------

  /** Server side: the listener took the connection; deliveries may start. */
  [kAccept](): void {
    this.#open = true;
    if (this.#inboxBytes > 0 || this.#eofReceived || this.#resetReceived) this.#schedule();
  }

  /** Client side: the listener accepted. */
  [kConnected](): void {
    if (this.destroyed) return;
    this.connecting = false;
    this.emit('connect');
    if (!this.#destroyedByHandler()) this.emit('ready');
  }

  /** Client side: the connection could not be made (no such listener, hop limit...). */
  [kFail](error: SocketError): void {
    const peer = this.#peer;
    this.#peer = null;
    if (peer !== null) {
      peer.#peer = null;
      peer.destroy();
    }
    this.destroy(error);
  }

  // ---- internals ------------------------------------------------------------------------------

  /** Bytes in our receive buffer: delivered-but-unread plus not-yet-delivered. */
  #level(): number {
    return this.#inboxBytes + this.readableLength;
  }

  #receive(chunk: Buffer): void {
    this.#inbox.push(chunk);
    this.#inboxBytes += chunk.length;
    this.#schedule();
  }

  #schedule(): void {
    if (!this.#queued && this.#open) {
      this.#queued = true;
      enqueue(this);
    }
  }

  /** Moves what the peer's buffer can take (Envoy's rule 4f); completes the write when all moved. */
  #continueWrite(peer: InternalSocket): void {
    const chunks = this.#pendingChunks;
    if (chunks === null) return;
    const high = peer.#highWatermark;
    let moved = 0;
    while (this.#pendingIndex < chunks.length) {
      const level = peer.#level();
      if (level > high) break;
      const limit = level < high ? Math.max(FRAGMENT_BYTES, high - level) : FRAGMENT_BYTES;
      const chunk = chunks[this.#pendingIndex] as Buffer;
      if (chunk.length <= limit) {
        this.#pendingIndex++;
        moved += chunk.length;
        peer.#receive(chunk);
      } else {
        moved += limit;
        peer.#receive(chunk.subarray(0, limit));
        chunks[this.#pendingIndex] = chunk.subarray(limit);
      }
    }
    if (moved > 0) {
      this.bytesWritten += moved;
      this.#touch();
    }
    // The write completes once all of it moved and the peer is not above H; otherwise it is
    // held until the peer reads down to its low watermark, so write() reports false meanwhile.
    if (this.#pendingIndex === chunks.length && peer.#level() <= high) this.#completeWrite();
  }

  #completeWrite(error?: SocketError): void {
    const callback = this.#pendingCallback;
    this.#pendingChunks = null;
    this.#pendingCallback = null;
    if (callback === null) return;
    // Writable emits 'drain' itself only if its own buffer said so; otherwise we owe it.
    const owesDrain = this.#owesDrain && !this.writableNeedDrain;
    callback(error);
    // The callback ran Writable's machinery and maybe user code: it may have written again.
    if (owesDrain && !this.#writeHeld() && !this.#destroyedByHandler() && this.writableLength === 0) {
      this.#owesDrain = false;
      this.emit('drain');
    }
  }

  #resumeWrite(): void {
    if (this.#failurePending) return;
    const peer = this.#peer;
    if (peer === null) {
      // The peer closed while we waited: a closed peer counts as writable, and the write fails.
      const chunks = this.#pendingChunks ?? [];
      const callback = this.#pendingCallback;
      this.#pendingChunks = null;
      this.#pendingCallback = null;
      if (callback !== null) this.#failWrite(chunks, callback);
      return;
    }
    this.#continueWrite(peer);
  }

  /**
   * A write after the peer closed fails with EPIPE. The failure destroys this socket, so it waits
   * until our reader has had everything the peer sent before closing, up to and including EOF:
   * the error never discards data that was already on its way to us.
   */
  #failWrite(chunks: Buffer[], callback: WriteCallback): void {
    if (this.readableEnded || this.destroyed || !this.#open) {
      callback(brokenPipe());
      return;
    }
    this.#pendingChunks = chunks;
    this.#pendingIndex = chunks.length;
    this.#pendingCallback = callback;
    this.#failurePending = true;
    this.once('end', () => {
      this.#failurePending = false;
      if (this.#pendingCallback === callback) this.#completeWrite(brokenPipe());
    });
  }

  /**
   * Re-reads `destroyed` after emitting an event or running a callback: the handler may have
   * destroyed the socket (a plain property read would be narrowed away by the type checker).
   */
  #destroyedByHandler(): boolean {
    return this.destroyed;
  }

  #writeHeld(): boolean {
    return this.#pendingCallback !== null;
  }

  #touch(): void {
    if (this.#timer !== null) this.#timer.refresh();
  }

  #clearTimer(): void {
    if (this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
  }
}
