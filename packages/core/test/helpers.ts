import { once } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import { InternalListenerRegistry, type InternalSocket } from '../src/index.js';
export { readAll } from '../../../test-support/streams.js';

/** A registry with one listener, and a function that connects and returns both ends. */
export function pairFactory(options: { bufferSizeBytes?: number; allowHalfOpen?: boolean } = {}): {
  registry: InternalListenerRegistry;
  connect: (clientOptions?: { allowHalfOpen?: boolean }) => Promise<{ client: InternalSocket; server: InternalSocket }>;
} {
  const registry = new InternalListenerRegistry(
    options.bufferSizeBytes === undefined ? {} : { bufferSizeBytes: options.bufferSizeBytes },
  );
  const accepted: InternalSocket[] = [];
  const waiters: Array<(s: InternalSocket) => void> = [];
  registry.listen(
    'test',
    (socket) => {
      const waiter = waiters.shift();
      if (waiter) waiter(socket);
      else accepted.push(socket);
    },
    { allowHalfOpen: options.allowHalfOpen ?? false },
  );
  return {
    registry,
    connect: async (clientOptions = {}) => {
      const client = registry.connect(
        { serverListenerName: 'test' },
        { allowHalfOpen: clientOptions.allowHalfOpen ?? options.allowHalfOpen ?? false },
      );
      const server = await new Promise<InternalSocket>((resolve) => {
        const ready = accepted.shift();
        if (ready) resolve(ready);
        else waiters.push(resolve);
      });
      if (client.connecting) await once(client, 'connect');
      return { client, server };
    },
  };
}

/** Waits for the next event-loop turns to run (every delivery round queued before them has run). */
export async function turns(n = 2): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** Collects every event name a socket emits, in order, for assertions on event sequences. */
export function recordEvents(socket: InternalSocket, names: string[]): string[] {
  const seen: string[] = [];
  for (const name of names) socket.on(name, () => seen.push(name));
  return seen;
}

export function errorOf(socket: InternalSocket): Promise<NodeJS.ErrnoException> {
  return new Promise((resolve) => socket.once('error', resolve));
}

/**
 * Resolves once the stream has emitted 'close' and its 'close' listeners ran. Neither
 * `stream.closed` nor `finished()` says that: both can resolve before 'close' is emitted.
 * For streams that emit 'close' themselves (InternalSocket, most Duplexes) Node's
 * `closeEmitted` flag tells whether it already happened. A net.Socket emits 'close' later,
 * from its handle's close callback, with that flag already set: call this before it can close.
 */
export function whenClosed(stream: Readable | Writable): Promise<void> {
  const states = stream as unknown as { _readableState?: { closeEmitted?: boolean }; _writableState?: { closeEmitted?: boolean } };
  if (states._readableState?.closeEmitted === true || states._writableState?.closeEmitted === true) return Promise.resolve();
  return new Promise((resolve) => stream.once('close', () => setImmediate(resolve)));
}
