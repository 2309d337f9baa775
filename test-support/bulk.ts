// Large transfers through an echoing path, verified by hash: what a test sends and what comes back.
import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';

const CHUNK_BYTES = 64 * 1024;

export interface EchoExchange {
  readonly sent: number;
  readonly received: number;
  readonly sentSha256: string;
  readonly receivedSha256: string;
}

/**
 * Connects to `port`, writes `bytes` of random data (with backpressure) while reading what comes
 * back, half-closes once everything is written, and resolves when the other side ends. Against
 * an echo behind the path, `receivedSha256` equals `sentSha256`. Rejects on a socket error.
 */
export function echoExchange(port: number, bytes: number, host = '127.0.0.1'): Promise<EchoExchange> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host, allowHalfOpen: true });
    const out = createHash('sha256');
    const back = createHash('sha256');
    let sent = 0;
    let received = 0;
    const pump = (): void => {
      while (sent < bytes) {
        const chunk = randomBytes(Math.min(CHUNK_BYTES, bytes - sent));
        out.update(chunk);
        sent += chunk.length;
        if (!socket.write(chunk)) {
          socket.once('drain', pump);
          return;
        }
      }
      socket.end();
    };
    socket.once('connect', pump);
    socket.on('data', (chunk: Buffer) => {
      back.update(chunk);
      received += chunk.length;
    });
    socket.once('end', () => {
      socket.destroy();
      resolve({ sent, received, sentSha256: out.digest('hex'), receivedSha256: back.digest('hex') });
    });
    socket.once('error', reject);
  });
}

/** A TCP echo server on 127.0.0.1 that keeps half-closes (a client's FIN ends its echo). */
export async function echoServer(port = 0): Promise<{ port: number; connections: () => number; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.once('close', () => sockets.delete(socket));
    socket.pipe(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return {
    port: (server.address() as net.AddressInfo).port,
    connections: () => sockets.size,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
