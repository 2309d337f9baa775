import tls, { type TLSSocket } from 'node:tls';
import type { ConnectionSocket } from '../../network/dial.js';
import type { ComponentLog } from '../../network/network-filter.js';
import type { SslStats } from './ssl-stats.js';
import type { TlsContext } from './tls-context.js';
import { rememberTlsInfo, tlsInfoOf } from './tls-info.js';

/** A DownstreamTlsContext compiled once per filter chain. */
export interface DownstreamTls {
  readonly context: TlsContext;
  readonly requireClientCertificate: boolean;
  readonly requireSni: boolean;
  /** The filter chain's transport_socket_connect_timeout; 0 waits for ever. */
  readonly handshakeTimeoutMs: number;
}

type Settle = (result: TLSSocket | Error) => void;

/**
 * The server side of one filter chain's TLS transport socket, over any connection (a kernel
 * socket, or an internal listener's user-space socket): a node tls.Server that never listens and
 * is handed connections, so node's own server handshake (and its verdict on the client's chain)
 * is used; then Envoy's checks of the client certificate (SANs, pins, required). On success the
 * TLS socket is what the filter chain reads and writes; on failure the connection is closed,
 * counted under `ssl.*` and logged at debug with the reason.
 */
export class DownstreamTlsServer {
  readonly #config: DownstreamTls;
  readonly #stats: SslStats;
  readonly #log: ComponentLog;
  readonly #server: tls.Server;
  /** Connections whose handshake is under way, by the raw socket node's TLS socket wraps. */
  readonly #pending = new WeakMap<object, Settle>();

  constructor(config: DownstreamTls, stats: SslStats, log: ComponentLog) {
    this.#config = config;
    this.#stats = stats;
    this.#log = log;
    const context = config.context;
    this.#server = tls.createServer({
      ...context.secureOptions,
      // TLS connections half-close as kernel ones do (TcpProxy carries a client's close_notify as its FIN).
      allowHalfOpen: true,
      requestCert: context.validates || config.requireClientCertificate,
      rejectUnauthorized: false,
      ...(context.alpn.length > 0 ? { ALPNProtocols: [...context.alpn] } : {}),
      ...(config.handshakeTimeoutMs > 0 ? { handshakeTimeout: config.handshakeTimeoutMs } : {}),
    });
    this.#server.on('secureConnection', (socket: TLSSocket) => this.#settle(socket, socket));
    this.#server.on('tlsClientError', (error: Error, socket: TLSSocket) => this.#settle(socket, error));
  }

  get context(): TlsContext {
    return this.#config.context;
  }


  /** Runs the handshake on `socket`; resolves with the TLS socket, or undefined once the connection was refused and closed. */
  secure(socket: ConnectionSocket, label: string): Promise<TLSSocket | undefined> {
    return new Promise((resolve) => {
      let done = false;
      // A client that half-closes during the handshake will never finish it: without this, node's
      // TLS server waits on a half-open socket (Envoy closes the connection on that EOF).
      const halfOpen = socket.allowHalfOpen;
      socket.allowHalfOpen = false;
      const settle: Settle = (result) => {
        if (done) return;
        done = true;
        socket.allowHalfOpen = halfOpen;
        socket.off('close', onClose);
        if (result instanceof Error) {
          this.#log('debug', `${label} TLS handshake failed: ${result.message}`);
          if (!socket.destroyed) socket.destroy();
          resolve(undefined);
        } else {
          // node's TLS socket took allowHalfOpen from the connection when it wrapped it (false, above).
          result.allowHalfOpen = halfOpen;
          resolve(result);
        }
      };
      const onClose = (): void => {
        if (done) return;
        this.#stats.onHandshakeError();
        settle(new Error('the connection closed during the handshake'));
      };
      socket.once('close', onClose);
      this.#pending.set(socket, settle);
      this.#server.emit('connection', socket);
    });
  }

  #settle(socket: TLSSocket, result: TLSSocket | Error): void {
    const raw = wrappedConnection(socket);
    const settle = raw === undefined ? undefined : this.#pending.get(raw);
    if (settle === undefined) {
      socket.destroy();
      return;
    }
    if (raw !== undefined) this.#pending.delete(raw);
    if (result instanceof Error) {
      this.#stats.onHandshakeError();
      socket.destroy();
      settle(result);
      return;
    }
    const config = this.#config;
    const peer = socket.getPeerX509Certificate();
    let failure: string | undefined;
    if (config.requireSni && !socket.servername) {
      this.#stats.onHandshakeError();
      failure = 'the client sent no SNI (require_sni)';
    } else if (peer === undefined && config.requireClientCertificate) {
      this.#stats.onVerifyFailure('no_cert');
      failure = 'the client presented no certificate (require_client_certificate)';
    } else if (peer !== undefined) {
      const verdict = config.context.verify(peer, socket.authorized, authorizationCode(socket));
      if (verdict.failure !== undefined) {
        this.#stats.onVerifyFailure(verdict.failure);
        failure = verdict.reason ?? verdict.failure;
      }
    }
    if (failure !== undefined) {
      socket.destroy();
      settle(new Error(failure));
      return;
    }
    const info = tlsInfoOf(socket, peer, config.context.certificateChains);
    this.#stats.onHandshake(socket, info, peer === undefined);
    rememberTlsInfo(socket, info);
    settle(socket);
  }
}

/**
 * The connection a server-side TLS socket wraps. node keeps a kernel socket as `_parent`; any
 * other stream (an internal listener's user-space socket) is wrapped in a JSStreamSocket that the
 * TLS handle keeps as `_parentWrap`, with the stream as its `stream`. Neither is documented; both
 * have been stable since node 0.11 and 8, and a test covers each (tls.test.ts, tls-internal.test.ts).
 */
function wrappedConnection(socket: TLSSocket): object | undefined {
  const internals = socket as unknown as { _parent?: object | null; _handle?: { _parentWrap?: { stream?: object } } | null };
  return internals._parent ?? internals._handle?._parentWrap?.stream ?? undefined;
}

/** node's `authorizationError` is an Error (or a string); its code names the reason (CERT_HAS_EXPIRED, ...). */
export function authorizationCode(socket: TLSSocket): string | undefined {
  const error = socket.authorizationError as unknown;
  if (error === null || error === undefined) return undefined;
  if (typeof error === 'string') return error;
  return (error as NodeJS.ErrnoException).code ?? (error as Error).message;
}
