import { createHash, randomFillSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { InternalSocket } from '../src/index.js';
import { pairFactory } from './helpers.js';

const CHUNK = 64 * 1024;

/** Writes `total` pseudo-random bytes in CHUNK writes, honouring backpressure; returns their sha256. */
function sendAll(socket: InternalSocket, total: number, onWrite: () => void): Promise<string> {
  const hash = createHash('sha256');
  const block = randomFillSync(Buffer.alloc(CHUNK * 16));
  let sent = 0;
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    const pump = (): void => {
      while (sent < total) {
        const offset = (sent / CHUNK) % 16;
        // A fresh copy per write: the socket keeps references to written buffers until read.
        const chunk = Buffer.from(block.subarray(offset * CHUNK, offset * CHUNK + Math.min(CHUNK, total - sent)));
        hash.update(chunk);
        sent += chunk.length;
        const more = socket.write(chunk);
        onWrite();
        if (!more) {
          socket.once('drain', pump);
          return;
        }
      }
      socket.end(() => resolve(hash.digest('hex')));
    };
    pump();
  });
}

/** Reads to EOF; slow readers pull at most `bytesPerTick` every `tickMs`. Returns sha256 and length. */
function receiveAll(
  socket: InternalSocket,
  options: { slow?: { bytesPerTick: number; tickMs: number }; onRead: () => void },
): Promise<{ sha256: string; length: number }> {
  const hash = createHash('sha256');
  let length = 0;
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.once('end', () => resolve({ sha256: hash.digest('hex'), length }));
    const take = (chunk: Buffer): void => {
      hash.update(chunk);
      length += chunk.length;
      options.onRead();
    };
    const slow = options.slow;
    if (slow === undefined) {
      socket.on('data', take);
      return;
    }
    const tick = (): void => {
      let budget = slow.bytesPerTick;
      let chunk: Buffer | null;
      while (budget > 0 && (chunk = socket.read(Math.min(budget, Math.max(1, socket.readableLength))) as Buffer | null) !== null) {
        take(chunk);
        budget -= chunk.length;
      }
      if (!socket.readableEnded) setTimeout(tick, slow.tickMs);
    };
    // read() returns null at EOF once, which is what makes 'end' fire.
    socket.on('readable', () => undefined);
    tick();
  });
}

describe('bulk transfer', () => {
  for (const bufferSizeBytes of [1024 * 1024, 64 * 1024]) {
    it(`moves 64 MiB each way at once intact, with a slow reader, never buffering more than H + one chunk (H = ${bufferSizeBytes / 1024} KiB)`, async () => {
      const total = 64 * 1024 * 1024;
      const { connect } = pairFactory({ bufferSizeBytes, allowHalfOpen: true });
      const { client, server } = await connect();
      let worstClientToServer = 0;
      let worstServerToClient = 0;
      const sample = (): void => {
        worstClientToServer = Math.max(worstClientToServer, server.receiveBufferBytes + client.pendingWriteBytes);
        worstServerToClient = Math.max(worstServerToClient, client.receiveBufferBytes + server.pendingWriteBytes);
      };
      const sampler = setInterval(sample, 1);
      try {
        const [upSent, downSent, upReceived, downReceived] = await Promise.all([
          sendAll(client, total, sample),
          sendAll(server, total, sample),
          // The server reads slowly: 512 KiB every 2 ms at most.
          receiveAll(server, { slow: { bytesPerTick: 512 * 1024, tickMs: 2 }, onRead: sample }),
          receiveAll(client, { onRead: sample }),
        ]);
        expect(upReceived.length).toBe(total);
        expect(downReceived.length).toBe(total);
        expect(upReceived.sha256).toBe(upSent);
        expect(downReceived.sha256).toBe(downSent);
      } finally {
        clearInterval(sampler);
      }
      // The slow side really was the bottleneck, and the bound held all along.
      expect(worstClientToServer).toBeGreaterThan(bufferSizeBytes / 2);
      expect(worstClientToServer).toBeLessThanOrEqual(bufferSizeBytes + CHUNK);
      expect(worstServerToClient).toBeLessThanOrEqual(bufferSizeBytes + CHUNK);
    });
  }
});
