import type { Http2Stream } from 'node:http2';
import type { ConnectionWatermarks } from './http2-codec-socket.js';

/** node:http2's own high watermark for a stream's writes (its writableHighWaterMark default). */
const NODE_STREAM_HIGH_WATER_MARK = 16 * 1024;

/**
 * Writes to one HTTP/2 stream as Envoy's streams write: `write()` is false once the stream holds
 * its buffer limit (the connection's, Envoy's per_connection_buffer_limit_bytes: its flow-control
 * window is spent or the session is behind) or while its connection's write buffer is above the
 * high watermark, and `onWritable` is called once both have room again.
 *
 * node:http2's own 16 KiB mark is not the limit: a stream's write completes only when the session
 * wrote it out, so waiting for each 'drain' would move one chunk per event-loop turn. Without the
 * connection half, a stream whose window is open would keep queueing on a connection the peer does
 * not read.
 */
export class Http2StreamWriter {
  readonly #stream: Http2Stream;
  readonly #watermarks: ConnectionWatermarks | undefined;
  readonly #limit: number;
  readonly #onWritable: () => void;

  constructor(stream: Http2Stream, watermarks: ConnectionWatermarks | undefined, onWritable: () => void) {
    this.#stream = stream;
    this.#watermarks = watermarks;
    // Never below Node's mark: only a refused write brings the 'drain' that wakes a full stream.
    this.#limit = Math.max(watermarks?.highWatermarkBytes ?? 0, NODE_STREAM_HIGH_WATER_MARK);
    this.#onWritable = onWritable;
    stream.on('drain', this.#check);
    if (watermarks !== undefined) {
      watermarks.on('belowLowWatermark', this.#check);
      stream.once('close', () => watermarks.off('belowLowWatermark', this.#check));
    }
  }

  /** Whether more may be written now. */
  get writable(): boolean {
    return this.#stream.writableLength < this.#limit && this.#watermarks?.aboveHighWatermark !== true;
  }

  write(chunk: Buffer): boolean {
    this.#stream.write(chunk);
    return this.writable;
  }

  /**
   * Node emits 'drain' once the stream's buffer is empty after a write it refused, which is always
   * the case when this writer refused one for the stream's sake (its limit is above Node's mark).
   */
  readonly #check = (): void => {
    if (this.writable) this.#onWritable();
  };
}
