import tls, { type TLSSocket } from 'node:tls';
import type { ConnectionSocket } from '../../network/dial.js';
import { authorizationCode } from './downstream-tls.js';
import type { SslStats } from './ssl-stats.js';
import type { TlsContext } from './tls-context.js';
import { rememberTlsInfo, tlsInfoOf } from './tls-info.js';
import type { TransportSocketOptions } from '../transport-socket-options.js';

/** An UpstreamTlsContext compiled once per cluster. */
export interface UpstreamTls {
  readonly context: TlsContext;
  readonly sni: string;
  readonly autoHostSni: boolean;
  readonly autoSniSanValidation: boolean;
}

/**
 * The client side of a TLS transport socket over a dialled connection. The returned socket is what
 * the rest of il uses as the upstream connection, and it behaves as a connection does: 'connect'
 * once the handshake is done and the server's certificate passed Envoy's checks; a failed handshake
 * or check is an 'error' and 'close' before any 'connect' (a connect failure).
 *
 * node's TLSSocket reports 'connect' when the TCP connection is up, before the handshake; that
 * event is held back here (the one place il intercepts it), so every consumer of a connection
 * (pools, TcpProxy, CONNECT termination) waits for a usable TLS connection without knowing TLS.
 */
export function secureUpstream(
  raw: ConnectionSocket,
  config: UpstreamTls,
  stats: SslStats,
  hostname: string | undefined,
  options: TransportSocketOptions | undefined,
): TLSSocket {
  const context = config.context;
  // Envoy's order: the connection's override (auto_sni), the configured sni, the host's name (auto_host_sni).
  const override = options?.serverNameOverride;
  const hostSni = config.autoHostSni && hostname !== undefined && hostname !== '' ? hostname : undefined;
  const servername = override !== undefined && override !== '' ? override : config.sni !== '' ? config.sni : hostSni;
  // The names the certificate must carry instead of the configured matchers: the connection's
  // override (auto_san_validation), else the SNI sent when auto_sni_san_validation asks for it.
  const sanOverride = options?.verifySubjectAltNameListOverride?.length
    ? options.verifySubjectAltNameListOverride
    : config.autoSniSanValidation && servername !== undefined
      ? [servername]
      : undefined;
  const alpn = options?.applicationProtocolListOverride?.length ? options.applicationProtocolListOverride : context.alpn;
  const socket = tls.connect({
    socket: raw, // a Duplex: node wraps any stream (JSStreamSocket) when it is not a net.Socket
    secureContext: context.secureContext,
    rejectUnauthorized: false,
    // il checks the certificate itself after the handshake (Envoy's checks, counted).
    checkServerIdentity: () => undefined,
    ...(servername === undefined ? {} : { servername }),
    ...(alpn.length > 0 ? { ALPNProtocols: [...alpn] } : {}),
  });
  let ready = false;
  let verifyFailed = false;
  // node's own 'connect' listeners (they start the handshake once TCP is up) still hear the TCP
  // connect; everyone who listens later hears 'connect' only once the connection is usable.
  const internal = new Set(socket.rawListeners('connect') as Array<(...args: unknown[]) => void>);
  const emit = socket.emit.bind(socket) as (event: string | symbol, ...args: unknown[]) => boolean;
  (socket as { emit: (event: string | symbol, ...args: unknown[]) => boolean }).emit = (event, ...args) => {
    if (event !== 'connect' || ready) return emit(event, ...args);
    for (const listener of internal) listener.apply(socket, args);
    internal.clear();
    return true;
  };
  socket.once('secureConnect', () => {
    const peer = socket.getPeerX509Certificate();
    const verdict = context.verify(peer, socket.authorized, authorizationCode(socket), sanOverride);
    if (verdict.failure !== undefined) {
      verifyFailed = true;
      stats.onVerifyFailure(verdict.failure);
      socket.destroy(Object.assign(new Error(`TLS error: ${verdict.reason ?? verdict.failure}`), { code: 'ERR_TLS_CERT_REJECTED' }));
      return;
    }
    const info = tlsInfoOf(socket, peer, context.certificateChains);
    stats.onHandshake(socket, info, peer === undefined);
    rememberTlsInfo(socket, info);
    ready = true;
    socket.emit('connect');
  });
  // A connection that never came up is a connect failure, not a TLS error.
  let tcpUp = !raw.connecting;
  raw.once('connect', () => (tcpUp = true));
  socket.once('error', () => {
    if (!ready && tcpUp && !verifyFailed) stats.onHandshakeError();
  });
  return socket;
}
