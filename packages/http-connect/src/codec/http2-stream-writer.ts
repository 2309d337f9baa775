import type { Http2Stream } from 'node:http2';
import type { ConnectionWatermarks } from './http2-codec-socket.js';

/**
 * Writes to one HTTP/2 stream as Envoy's streams write: `write()` is false while the stream's own
 * buffer is full (its flow-control window is spent) or while its connection's write buffer is
 * above the high watermark, and `onWritable` is called once both have room again. Without the
 * second half, a stream whose window is open would keep queueing on a connection the peer does
 * not read.
 */
export class Http2StreamWriter {
  readonly #stream: Http2Stream;
  readonly #watermarks: ConnectionWatermarks | undefined;
  readonly #onWritable: () => void;

  constructor(stream: Http2Stream, watermarks: ConnectionWatermarks | undefined, onWritable: () => void) {
    this.#stream = stream;
    this.#watermarks = watermarks;
    this.#onWritable = onWritable;
    stream.on('drain', this.#check);
    if (watermarks !== undefined) {
      watermarks.on('belowLowWatermark', this.#check);
      stream.once('close', () => watermarks.off('belowLowWatermark', this.#check));
    }
  }

  /** Whether more may be written now. */
  get writable(): boolean {
    return !this.#stream.writableNeedDrain && this.#watermarks?.aboveHighWatermark !== true;
  }

  write(chunk: Buffer): boolean {
    return this.#stream.write(chunk) && this.#watermarks?.aboveHighWatermark !== true;
  }

  readonly #check = (): void => {
    if (this.writable) this.#onWritable();
  };
}
