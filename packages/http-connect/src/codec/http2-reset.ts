import type { Http2Stream } from 'node:http2';

/**
 * Resets an HTTP/2 stream with RST_STREAM `code` alone, as Envoy resets a stream.
 *
 * node:http2's `close(code)` first ends the writable side when it is still open, so the peer sees
 * END_STREAM (a clean end of the request or tunnel) right before the RST_STREAM; a terminator may
 * act on that end (half-close its TCP upstream) before it learns of the abort. Here the writable
 * side is not ended: `close()` then sends only the RST_STREAM, and Node tears the stream down.
 */
export function resetStream(stream: Http2Stream, code: number): void {
  if (stream.closed || stream.destroyed) return;
  if (!stream.writableEnded) {
    // close() calls end() on the stream to finish the writable side; for a reset that END_STREAM
    // must not go out. Nothing writes to a stream after it was reset.
    (stream as { end: () => Http2Stream }).end = () => stream;
  }
  stream.close(code);
}
