import { constants } from 'node:os';

/** An error shaped like the ones node:net raises, so callers can switch on `code` as usual. */
export interface SocketError extends Error {
  code: string;
  errno?: number;
  syscall?: string;
  address?: string;
}

const errnos: Record<string, number | undefined> = constants.errno;

export function socketError(code: string, syscall: string, message: string, address?: string): SocketError {
  const error = new Error(message) as SocketError;
  error.code = code;
  const errno = errnos[code];
  if (errno !== undefined) error.errno = -errno;
  error.syscall = syscall;
  if (address !== undefined) error.address = address;
  return error;
}

/** The peer closed, so our write cannot be delivered (a kernel socket says EPIPE). */
export function brokenPipe(): SocketError {
  return socketError('EPIPE', 'write', 'write EPIPE: the peer of this internal connection has closed');
}

/** The peer aborted the connection (RST). */
export function connectionReset(): SocketError {
  return socketError('ECONNRESET', 'read', 'read ECONNRESET: the peer of this internal connection reset it');
}
