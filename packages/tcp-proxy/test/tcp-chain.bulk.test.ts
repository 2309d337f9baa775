import { createHash, randomFillSync } from 'node:crypto';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { example, startProxy, upstreamServer } from './harness.js';

const CHUNK = 64 * 1024;
const TOTAL = 256 * 1024 * 1024;
const LIMIT = 1024 * 1024; // per_connection_buffer_limit_bytes default

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Sends TOTAL pseudo-random bytes honouring backpressure, then FIN; resolves with their sha256. */
function send(socket: net.Socket): Promise<string> {
  const hash = createHash('sha256');
  let sent = 0;
  return new Promise((resolve) => {
    const pump = (): void => {
      while (sent < TOTAL) {
        const chunk = randomFillSync(Buffer.allocUnsafe(CHUNK));
        hash.update(chunk);
        sent += CHUNK;
        if (!socket.write(chunk)) {
          socket.once('drain', pump);
          return;
        }
      }
      socket.end(() => resolve(hash.digest('hex')));
    };
    pump();
  });
}

/** Reads to EOF, optionally no faster than `bytesPerSecond`; resolves with sha256 and length. */
function receive(socket: net.Socket, bytesPerSecond?: number): Promise<{ sha256: string; length: number }> {
  const hash = createHash('sha256');
  let length = 0;
  const started = performance.now();
  return new Promise((resolve, reject) => {
    socket.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      length += chunk.length;
      if (bytesPerSecond !== undefined) {
        const ahead = length / bytesPerSecond - (performance.now() - started) / 1000;
        if (ahead > 0.005) {
          socket.pause();
          setTimeout(() => socket.resume(), ahead * 1000);
        }
      }
    });
    socket.once('end', () => resolve({ sha256: hash.digest('hex'), length }));
    socket.once('error', reject);
  });
}

describe('examples/tcp-chain.yaml under load', () => {
  it('carries 256 MiB each way at once through TCP -> internal listener -> TCP, intact, with bounded buffering behind a slow reader', async () => {
    const proxy = await startProxy(example('tcp-chain.yaml'));
    cleanups.push(() => proxy.close());
    let upstreamDone: Promise<[string, { sha256: string; length: number }]> | undefined;
    const upstream = await upstreamServer((socket) => {
      // The upstream is the slow reader (64 MiB/s) and sends its own 256 MiB at full speed.
      upstreamDone = Promise.all([send(socket), receive(socket, 64 * 1024 * 1024)]);
    }, proxy.port(10000));
    cleanups.push(upstream.close);

    const gauges = [
      'tcp.ingress.downstream_cx_rx_bytes_buffered',
      'tcp.ingress.downstream_cx_tx_bytes_buffered',
      'tcp.encap.downstream_cx_rx_bytes_buffered',
      'tcp.encap.downstream_cx_tx_bytes_buffered',
    ];
    const peaks = new Map(gauges.map((g) => [g, 0]));
    const sampler = setInterval(() => {
      for (const g of gauges) peaks.set(g, Math.max(peaks.get(g) ?? 0, proxy.stat(g) ?? 0));
    }, 2);
    cleanups.push(() => clearInterval(sampler));

    const client = net.connect({ port: proxy.port(9999), host: '127.0.0.1', allowHalfOpen: true });
    const [clientSent, clientReceived] = await Promise.all([send(client), receive(client)]);
    if (upstreamDone === undefined) throw new Error('the upstream never saw the connection');
    const [upstreamSent, upstreamReceived] = await upstreamDone;
    clearInterval(sampler);

    expect(upstreamReceived.length).toBe(TOTAL);
    expect(upstreamReceived.sha256).toBe(clientSent);
    expect(clientReceived.length).toBe(TOTAL);
    expect(clientReceived.sha256).toBe(upstreamSent);
    // The slow reader made the proxy hold back: flow control engaged, and buffering stayed at
    // the per-connection limit plus one chunk on every hop.
    expect((proxy.stat('tcp.ingress.downstream_flow_control_paused_reading_total') ?? 0) + (proxy.stat('tcp.encap.downstream_flow_control_paused_reading_total') ?? 0)).toBeGreaterThan(0);
    // (The internal hop's own receive buffer is bounded by buffer_size_kb; @il/core tests that.)
    for (const [gauge, peak] of peaks) expect(peak, gauge).toBeLessThanOrEqual(LIMIT + CHUNK);
  }, 180_000);
});
