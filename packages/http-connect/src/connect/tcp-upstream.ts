import { connectionAddresses, type ConnectionSocket, type Host, type UpstreamConnection } from '@il/core';
import { UpstreamConnectError, type UpstreamCallbacks, type UpstreamRequest } from '../router/upstream.js';

/**
 * A terminated CONNECT's upstream (Envoy's TCP upstream for the router,
 * upstreams/http/tcp/upstream_request.cc): a raw connection to the host. Its "response" is the
 * 200 the router synthesizes once the connection is up; the request payload goes out
 * byte for byte, and the connection's bytes come back as the response payload. A FIN from the
 * downstream (END_STREAM) becomes a FIN upstream; the upstream's FIN ends the response.
 */
export class TcpUpstream implements UpstreamRequest {
  readonly #socket: ConnectionSocket;
  readonly #host: Host;
  #connected = false;
  #done = false;

  /** `preamble`: bytes written before any payload (a PROXY protocol header). */
  constructor(connection: UpstreamConnection, preamble: Buffer | undefined, callbacks: UpstreamCallbacks) {
    this.#socket = connection.socket;
    this.#host = connection.host;
    const socket = this.#socket;
    // Queued ahead of any payload; net.Socket and InternalSocket keep write order while connecting.
    if (preamble !== undefined) socket.write(preamble);
    let ended = false;
    let error: NodeJS.ErrnoException | undefined;
    socket.once('connect', () => {
      if (this.#done) return;
      this.#connected = true;
      const addresses = connectionAddresses(socket);
      callbacks.onUpstreamConnection({ connectionId: connection.id, local: addresses.local, remote: addresses.remote });
      callbacks.onUpstreamHeaders(200, Object.create(null) as Record<string, never>, false);
    });
    socket.on('error', (e: NodeJS.ErrnoException) => {
      error ??= e;
    });
    socket.on('data', (chunk: Buffer) => {
      if (!this.#done && !callbacks.onUpstreamData(chunk)) socket.pause();
    });
    socket.on('drain', () => {
      if (!this.#done) callbacks.onUpstreamRequestDrain();
    });
    socket.once('end', () => {
      ended = true;
      if (this.#done) return;
      this.#done = true;
      callbacks.onUpstreamEnd(undefined);
    });
    socket.once('close', () => {
      if (this.#done || ended) return;
      this.#done = true;
      if (!this.#connected) {
        const failure = UpstreamConnectError.fromSocketError(error ?? Object.assign(new Error('connection closed'), { code: 'ECONNRESET' }), this.#host, false);
        callbacks.onUpstreamReset(failure.reason, failure.transportFailureReason);
      } else {
        callbacks.onUpstreamReset('connection termination', undefined);
      }
    });
  }

  write(chunk: Buffer): boolean {
    if (this.#done || this.#socket.destroyed) return true;
    return this.#socket.write(chunk);
  }

  end(): void {
    if (!this.#socket.destroyed) this.#socket.end();
  }

  resumeResponse(): void {
    this.#socket.resume();
  }

  /** Envoy closes the upstream with NoFlush: the peer sees the connection close (a FIN from here). */
  reset(): void {
    this.#done = true;
    if (!this.#socket.destroyed) this.#socket.destroy();
  }
}
