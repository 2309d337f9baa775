import { enqueue } from './delivery-queue.js';
import { internalAddressString } from './address.js';
import {
  DEFAULT_BUFFER_SIZE_BYTES,
  INTERNAL_CLIENT_ADDRESS,
  InternalSocket,
  kAccept,
  kConnected,
  kFail,
} from './internal-socket.js';
import type { PassthroughState } from './passthrough-state.js';
import { socketError } from './socket-errors.js';

export type InternalConnectionHandler = (socket: InternalSocket) => void;

export interface InternalListenerRegistryOptions {
  /**
   * Receive-buffer size of each direction of every internal connection, in bytes: Envoy's
   * `buffer_size_kb * 1024` (default 1 MiB; Envoy allows 1..8192 KiB).
   */
  bufferSizeBytes?: number;
  /**
   * How many internal listeners deep a chain may go before a connection is refused. Envoy has
   * no such limit (a listener routing to itself recurses forever); the default 32 stops loops.
   */
  maxHops?: number;
}

export interface InternalListenOptions {
  /** Whether accepted sockets keep their write side open after reading EOF (default false). */
  allowHalfOpen?: boolean;
}

export interface InternalConnectOptions {
  /** Whether the client socket keeps its write side open after reading EOF (default false). */
  allowHalfOpen?: boolean;
  /** Internal hops of the connection on whose behalf this one is made (0 from outside). */
  hops?: number;
  /** Metadata and shared filter state for the accepting side. */
  passthroughState?: PassthroughState;
  writableHighWaterMark?: number;
}

export interface InternalListenerAddress {
  serverListenerName: string;
  endpointId?: string;
}

/** A named listener inside the process, reachable only through its registry. */
export class InternalListener {
  readonly name: string;
  readonly #handler: InternalConnectionHandler;
  readonly #allowHalfOpen: boolean;
  readonly #connections = new Set<InternalSocket>();
  readonly #onClose: (listener: InternalListener) => void;
  #closed = false;

  constructor(
    name: string,
    handler: InternalConnectionHandler,
    options: InternalListenOptions,
    onClose: (listener: InternalListener) => void,
  ) {
    this.name = name;
    this.#handler = handler;
    this.#allowHalfOpen = options.allowHalfOpen ?? false;
    this.#onClose = onClose;
  }

  get allowHalfOpen(): boolean {
    return this.#allowHalfOpen;
  }

  /** Accepted connections that have not closed yet. */
  get connectionCount(): number {
    return this.#connections.size;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Stops accepting and closes every open connection, as Envoy does when a listener is removed
   * (close without flush: the peers read what was already sent, then EOF).
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#onClose(this);
    for (const socket of [...this.#connections]) socket.destroy();
  }

  /** Hands a new server socket to the handler. */
  accept(socket: InternalSocket): void {
    this.#connections.add(socket);
    socket.once('close', () => this.#connections.delete(socket));
    socket[kAccept]();
    this.#handler(socket);
  }
}

/**
 * The process's internal listeners by name (Envoy's internal listener registry plus connection
 * factory). `connect()` opens a user-space connection to a listener: no file descriptor, no port,
 * no kernel copy.
 */
export class InternalListenerRegistry {
  readonly bufferSizeBytes: number;
  readonly maxHops: number;
  readonly #listeners = new Map<string, InternalListener>();

  constructor(options: InternalListenerRegistryOptions = {}) {
    const bufferSizeBytes = options.bufferSizeBytes ?? DEFAULT_BUFFER_SIZE_BYTES;
    if (!Number.isInteger(bufferSizeBytes) || bufferSizeBytes < 1024 || bufferSizeBytes > 8192 * 1024) {
      throw new RangeError(`bufferSizeBytes must be an integer from 1024 to ${8192 * 1024}, got ${bufferSizeBytes}`);
    }
    const maxHops = options.maxHops ?? 32;
    if (!Number.isInteger(maxHops) || maxHops < 1) throw new RangeError(`maxHops must be a positive integer, got ${maxHops}`);
    this.bufferSizeBytes = bufferSizeBytes;
    this.maxHops = maxHops;
  }

  /** Registers a listener. A name can be registered once at a time. */
  listen(name: string, onConnection: InternalConnectionHandler, options: InternalListenOptions = {}): InternalListener {
    if (name.length === 0) throw new TypeError('an internal listener needs a non-empty name');
    if (this.#listeners.has(name)) {
      throw socketError('EADDRINUSE', 'listen', `internal listener '${name}' is already registered`, internalAddressString(name));
    }
    const listener = new InternalListener(name, onConnection, options, (l) => {
      if (this.#listeners.get(l.name) === l) this.#listeners.delete(l.name);
    });
    this.#listeners.set(name, listener);
    return listener;
  }

  get(name: string): InternalListener | undefined {
    return this.#listeners.get(name);
  }

  /** Number of registered listeners. */
  get size(): number {
    return this.#listeners.size;
  }

  names(): string[] {
    return [...this.#listeners.keys()];
  }

  /**
   * Opens a connection to the listener named by `address.serverListenerName` (`endpointId` only
   * tells hosts apart; it does not take part in the lookup, as in Envoy). Never throws for an
   * unreachable listener: the socket emits 'error' (ECONNREFUSED, or ELOOP past `maxHops`) on
   * the next turn. On success it emits 'connect' and 'ready' on the next turn, after the
   * listener's handler has received the server side.
   */
  connect(address: InternalListenerAddress, options: InternalConnectOptions = {}): InternalSocket {
    const { serverListenerName: name } = address;
    const target = internalAddressString(name, address.endpointId ?? '');
    const listener = this.#listeners.get(name);
    const hops = (options.hops ?? 0) + 1;
    const client = new InternalSocket({
      bufferSizeBytes: this.bufferSizeBytes,
      localAddress: INTERNAL_CLIENT_ADDRESS,
      remoteAddress: target,
      allowHalfOpen: options.allowHalfOpen ?? false,
      client: true,
      hops,
      passthroughState: options.passthroughState,
      writableHighWaterMark: options.writableHighWaterMark,
    });
    const server = new InternalSocket({
      bufferSizeBytes: this.bufferSizeBytes,
      localAddress: target,
      remoteAddress: INTERNAL_CLIENT_ADDRESS,
      allowHalfOpen: listener?.allowHalfOpen ?? false,
      client: false,
      hops,
      passthroughState: options.passthroughState,
      writableHighWaterMark: options.writableHighWaterMark,
    });
    InternalSocket.pair(client, server);
    enqueue({
      deliver: () => {
        if (client.destroyed) {
          // The client gave up (or reset) before the listener saw it.
          server.destroy();
          return;
        }
        if (hops > this.maxHops) {
          client[kFail](
            socketError(
              'ELOOP',
              'connect',
              `connect ELOOP ${target}: the connection would be ${hops} internal listeners deep (limit ${this.maxHops}); ` +
                'does a cluster route back into its own internal listener?',
              target,
            ),
          );
          return;
        }
        if (listener === undefined || listener.closed) {
          client[kFail](
            socketError('ECONNREFUSED', 'connect', `connect ECONNREFUSED ${target}: no internal listener named '${name}'`, target),
          );
          return;
        }
        listener.accept(server);
        client[kConnected]();
      },
    });
    return client;
  }
}
