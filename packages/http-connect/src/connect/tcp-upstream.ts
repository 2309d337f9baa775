import { Socket } from 'node:net';
import { connectionAddresses, connectionTlsInfo, type ConnectionSocket, type Host, type UpstreamConnection } from '@il/core';
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
  /** The upstream connection's high watermark (the cluster's per_connection_buffer_limit_bytes). */
  readonly #bufferLimit: number;
  /** A kernel socket: writes of one event-loop turn are corked and leave as one writev. */
  readonly #batchWrites: boolean;
  #corked = false;
  #connected = false;
  #done = false;

  /** `preamble`: bytes written before any payload (a PROXY protocol header). */
  constructor(connection: UpstreamConnection, preamble: Buffer | undefined, callbacks: UpstreamCallbacks) {
    this.#socket = connection.socket;
    this.#host = connection.host;
    this.#bufferLimit = connection.cluster.config.per_connection_buffer_limit_bytes;
    // An InternalSocket already batches what one callback writes; corking it would only slow its writes.
    this.#batchWrites = connection.socket instanceof Socket;
    const socket = this.#socket;
    // Queued ahead of any payload; net.Socket and InternalSocket keep write order while connecting.
    if (preamble !== undefined) socket.write(preamble);
    let ended = false;
    let error: NodeJS.ErrnoException | undefined;
    socket.once('connect', () => {
      if (this.#done) return;
      this.#connected = true;
      const addresses = connectionAddresses(socket);
      callbacks.onUpstreamConnection({ connectionId: connection.id, local: addresses.local, remote: addresses.remote, tls: connectionTlsInfo(socket) });
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

  /**
   * Sends payload upstream; false once a kernel socket holds a buffer's worth (Envoy's high
   * watermark is the cluster's per_connection_buffer_limit_bytes, as for TcpProxy), and then the
   * socket's 'drain' resumes the router.
   *
   * An HTTP/2 stream hands its DATA over one frame (at most 16 KiB) at a time, so a 64 KiB TCP
   * read of the downstream session arrives here as four writes. On a kernel socket they are
   * corked until the end of the event-loop turn, so they leave as one writev instead of four
   * syscalls (Envoy, too, flushes a connection's write buffer once per dispatcher iteration).
   */
  write(chunk: Buffer): boolean {
    const socket = this.#socket;
    if (this.#done || socket.destroyed) return true;
    // An InternalSocket's write() is false only while its peer is above buffer_size_kb: as is.
    if (!this.#batchWrites) return socket.write(chunk);
    if (!this.#corked) {
      this.#corked = true;
      socket.cork();
      setImmediate(this.#uncork);
    }
    // node's own high watermark (16 KiB) is below Envoy's: 'false' from it alone would pause the
    // stream after every frame. A 'drain' the router did not wait for is harmless.
    return socket.write(chunk) || socket.writableLength < this.#bufferLimit;
  }

  readonly #uncork = (): void => {
    this.#corked = false;
    const socket = this.#socket;
    if (!socket.destroyed && socket.writableCorked > 0) socket.uncork();
  };

  end(): void {
    if (!this.#socket.destroyed) this.#socket.end();
  }

  resumeResponse(): void {
    this.#socket.resume();
  }

  /**
   * Envoy closes the upstream with NoFlush: the peer sees the connection close (a FIN from here).
   * A client that reset its stream (RST_STREAM) resets the upstream connection: an RST, so the reset
   * crosses the tunnel as a reset (Envoy 1.38+ propagates resets through CONNECT termination).
   */
  reset(cause?: 'downstreamReset'): void {
    this.#done = true;
    if (this.#socket.destroyed) return;
    if (cause === 'downstreamReset') this.#socket.resetAndDestroy();
    else this.#socket.destroy();
  }
}
