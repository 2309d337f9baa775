// Reading what a socket or stream carries, with events rather than async iterators: an iterator
// destroys the stream when it finishes, which would reset a socket the test still uses.
import type { Readable } from 'node:stream';
import { within } from './wait.js';

/** Everything a stream carries until its end (EOF); rejects on 'error'. */
export function readAll(stream: Readable): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.once('end', () => resolve(Buffer.concat(chunks)));
    stream.once('error', reject);
    stream.resume();
  });
}

/**
 * Exactly `count` bytes: what arrives beyond them is put back (`unshift`) for the next reader.
 * Rejects if the stream ends first, or after `ms`.
 */
export function readBytes(stream: Readable, count: number, ms = 5000): Promise<Buffer> {
  let cleanup = (): void => undefined;
  const read = new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      total += chunk.length;
      if (total < count) return;
      cleanup();
      const all = Buffer.concat(chunks);
      if (all.length > count) stream.unshift(all.subarray(count));
      resolve(all.subarray(0, count));
    };
    const onEnd = (): void => {
      cleanup();
      reject(new Error(`stream ended after ${total} of ${count} bytes`));
    };
    cleanup = () => {
      stream.off('data', onData);
      stream.off('end', onEnd);
    };
    stream.on('data', onData);
    stream.once('end', onEnd);
    stream.resume();
  });
  return within(read, ms, `${count} bytes`).finally(() => cleanup());
}
