import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import { InternalSocket } from './internal-socket.js';

/** One end of a connection as Envoy sees it: an IP and port, a Unix pipe, or an internal address. */
export type ConnectionAddress =
  | { readonly kind: 'ip'; readonly ip: string; readonly port: number }
  | { readonly kind: 'pipe'; readonly path: string }
  | { readonly kind: 'internal'; readonly address: string };

/** Envoy's `asString()`: `1.2.3.4:80`, `[::1]:80`, a pipe path, or `envoy://listener/id`. */
export function formatAddress(address: ConnectionAddress): string {
  switch (address.kind) {
    case 'ip':
      return address.ip.includes(':') ? `[${address.ip}]:${address.port}` : `${address.ip}:${address.port}`;
    case 'pipe':
      return address.path;
    case 'internal':
      return address.address;
  }
}

/** Envoy's `_WITHOUT_PORT` forms: the bare IP; other kinds print whole. */
export function formatAddressWithoutPort(address: ConnectionAddress): string {
  return address.kind === 'ip' ? address.ip : formatAddress(address);
}

export function addressPort(address: ConnectionAddress): number | undefined {
  return address.kind === 'ip' ? address.port : undefined;
}

interface SocketLike extends Duplex {
  readonly localAddress?: string | undefined;
  readonly localPort?: number | undefined;
  readonly remoteAddress?: string | undefined;
  readonly remotePort?: number | undefined;
}

/** The local and remote addresses of any socket: TCP, Unix, TLS over either, or internal. */
export function connectionAddresses(socket: Duplex, pipePath?: string): { local: ConnectionAddress; remote: ConnectionAddress } {
  const inner = innermost(socket);
  if (inner instanceof InternalSocket) {
    return {
      local: { kind: 'internal', address: inner.localAddress },
      remote: { kind: 'internal', address: inner.remoteAddress },
    };
  }
  const s = inner as SocketLike;
  const local = ipOrPipe(s.localAddress, s.localPort, pipePath);
  const remote = ipOrPipe(s.remoteAddress, s.remotePort, pipePath);
  return { local, remote };
}

function ipOrPipe(ip: string | undefined, port: number | undefined, pipePath: string | undefined): ConnectionAddress {
  if (ip !== undefined && isIP(ip) !== 0) return { kind: 'ip', ip: stripMappedIpv4(ip), port: port ?? 0 };
  return { kind: 'pipe', path: pipePath ?? ip ?? '' };
}

/** `::ffff:127.0.0.1` (a dual-stack socket's view of IPv4) prints as Envoy prints it: 127.0.0.1. */
function stripMappedIpv4(ip: string): string {
  return ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
}

/**
 * A TLSSocket over an internal connection wraps it (directly as `_parent`, or through the
 * JSStreamSocket Node puts around a non-net.Socket as `.stream`); its addresses are the
 * internal socket's. Over TCP, the TLSSocket reports the TCP addresses itself.
 */
function innermost(socket: Duplex): Duplex {
  let current: unknown = socket;
  for (let depth = 0; depth < 3; depth++) {
    if (current instanceof InternalSocket) return current;
    const next = (current as { _parent?: unknown })._parent ?? (current as { stream?: unknown }).stream;
    if (next === undefined || next === null) break;
    current = next;
  }
  return socket;
}
