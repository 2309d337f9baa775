import net from 'node:net';
import type { Duplex } from 'node:stream';
import { addressString, type Address } from '@il/config/runtime';
import { INTERNAL_CLIENT_ADDRESS, InternalSocket } from './internal-socket.js';
import type { InternalListenerRegistry } from './internal-listener-registry.js';
import type { PassthroughState } from './passthrough-state.js';
import { socketError } from './socket-errors.js';

/**
 * What upper layers may rely on from any connection, whatever the address kind: the common
 * surface of `net.Socket` and `InternalSocket`.
 */
export interface ConnectionSocket extends Duplex {
  readonly remoteAddress?: string | undefined;
  readonly remotePort?: number | undefined;
  readonly localAddress?: string | undefined;
  readonly localPort?: number | undefined;
  readonly bytesRead: number;
  readonly bytesWritten: number;
  readonly connecting: boolean;
  setTimeout(ms: number, callback?: () => void): this;
  setNoDelay(noDelay?: boolean): this;
  setKeepAlive(enable?: boolean, initialDelay?: number): this;
  resetAndDestroy(): this;
  destroySoon(): void;
}

export interface DialOptions {
  /** Needed for `envoy_internal_address`; without it such a dial fails as Envoy's does without the bootstrap extension. */
  registry?: InternalListenerRegistry | undefined;
  /** Internal hops of the connection this dial is made for (see InternalListenerRegistry.maxHops). */
  hops?: number | undefined;
  /** State handed to an internal listener (Envoy's internal_upstream passthrough). */
  passthroughState?: PassthroughState | undefined;
  allowHalfOpen?: boolean | undefined;
  /** Fails the connection with ETIMEDOUT if it is not up within this many ms (Envoy's connect_timeout). */
  connectTimeoutMs?: number | undefined;
}

/** Internal hops of a connection: its own count for an internal socket, 0 for a kernel socket. */
export function hopsOf(socket: unknown): number {
  return socket instanceof InternalSocket ? socket.hops : 0;
}

/**
 * Connects to any Envoy `Address`: TCP for `socket_address`, a Unix socket for `pipe` (a leading
 * `@` names the abstract namespace, as in Envoy), the registry for `envoy_internal_address`.
 * Never throws for an unreachable peer: the socket emits 'error', as net.connect does.
 */
export function dial(address: Address, options: DialOptions = {}): ConnectionSocket {
  let socket: ConnectionSocket;
  if (address.envoy_internal_address !== undefined) {
    const { server_listener_name, endpoint_id } = address.envoy_internal_address;
    const registry = options.registry;
    if (registry === undefined) {
      return failedInternalSocket(
        address,
        'the InternalListener bootstrap extension (envoy.bootstrap.internal_listener) is not configured',
      );
    }
    socket = registry.connect(
      { serverListenerName: server_listener_name, endpointId: endpoint_id },
      {
        hops: options.hops ?? 0,
        allowHalfOpen: options.allowHalfOpen ?? false,
        ...(options.passthroughState === undefined ? {} : { passthroughState: options.passthroughState }),
      },
    );
  } else if (address.pipe !== undefined) {
    const path = address.pipe.path.startsWith('@') ? `\0${address.pipe.path.slice(1)}` : address.pipe.path;
    socket = net.connect({ path, allowHalfOpen: options.allowHalfOpen ?? false });
  } else if (address.socket_address !== undefined) {
    socket = net.connect({
      host: address.socket_address.address,
      port: address.socket_address.port_value,
      allowHalfOpen: options.allowHalfOpen ?? false,
      noDelay: true,
    });
  } else {
    throw new TypeError('dial() needs an address with socket_address, pipe or envoy_internal_address');
  }
  const timeoutMs = options.connectTimeoutMs;
  if (timeoutMs !== undefined && timeoutMs > 0) armConnectTimeout(socket, address, timeoutMs);
  return socket;
}

function armConnectTimeout(socket: ConnectionSocket, address: Address, timeoutMs: number): void {
  const timer = setTimeout(() => {
    if (socket.connecting && !socket.destroyed) {
      socket.destroy(
        socketError(
          'ETIMEDOUT',
          'connect',
          `connect ETIMEDOUT ${addressString(address)}: no connection within ${timeoutMs} ms`,
          addressString(address),
        ),
      );
    }
  }, timeoutMs);
  const clear = (): void => clearTimeout(timer);
  socket.once('connect', clear);
  socket.once('close', clear);
}

function failedInternalSocket(address: Address, reason: string): InternalSocket {
  const target = addressString(address);
  const socket = new InternalSocket({
    bufferSizeBytes: 1024,
    localAddress: INTERNAL_CLIENT_ADDRESS,
    remoteAddress: target,
    allowHalfOpen: false,
    client: true,
    hops: 0,
    passthroughState: undefined,
    writableHighWaterMark: undefined,
  });
  setImmediate(() => socket.destroy(socketError('ECONNREFUSED', 'connect', `connect ECONNREFUSED ${target}: ${reason}`, target)));
  return socket;
}
