import type { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';

/** What a TLS connection's access logs and routing can read (Envoy's Ssl::ConnectionInfo). */
export interface ConnectionTlsInfo {
  /** `TLSv1.3` */
  readonly version: string | undefined;
  /** The cipher's OpenSSL name, as Envoy prints it: `TLS_AES_128_GCM_SHA256`, `ECDHE-RSA-AES128-GCM-SHA256`. */
  readonly cipher: string | undefined;
  readonly sessionId: string | undefined;
  readonly alpn: string | undefined;
  readonly peerCertificate: X509Certificate | undefined;
  /** The peer's chain, leaf first (when node reports it). */
  readonly peerChain: readonly X509Certificate[];
  readonly localCertificate: X509Certificate | undefined;
}

/**
 * The connection's TLS info once its handshake passed. `peer` is the certificate the checks
 * already decoded; `localChains` are the chains this side may present. With one chain (the usual
 * case) its leaf is the local certificate; only with several is OpenSSL asked which one it sent,
 * as decoding a certificate costs more than the rest of the handshake's bookkeeping.
 */
export function tlsInfoOf(socket: TLSSocket, peer: X509Certificate | undefined, localChains: readonly { readonly chain: readonly X509Certificate[] }[]): ConnectionTlsInfo {
  const chain: X509Certificate[] = [];
  for (let cert = peer; cert !== undefined && chain.length < 10; ) {
    chain.push(cert);
    const issuer = cert.issuerCertificate;
    if (issuer === undefined || issuer === cert || issuer.fingerprint256 === cert.fingerprint256) break;
    cert = issuer;
  }
  const alpn = socket.alpnProtocol;
  return {
    version: socket.getProtocol() ?? undefined,
    cipher: socket.getCipher().name,
    // node exposes the serialized session, not its id.
    sessionId: undefined,
    alpn: typeof alpn === 'string' ? alpn : undefined,
    peerCertificate: peer,
    peerChain: chain,
    localCertificate: localChains.length === 0 ? undefined : localChains.length === 1 ? localChains[0]?.chain[0] : socket.getX509Certificate(),
  };
}

const byConnection = new WeakMap<object, ConnectionTlsInfo>();

/** Keeps a connection's TLS info with it, for whoever reports on the connection later (%UPSTREAM_TLS_*%). */
export function rememberTlsInfo(socket: object, info: ConnectionTlsInfo): void {
  byConnection.set(socket, info);
}

/** The TLS info of a connection whose TLS transport socket completed its handshake; undefined for plaintext. */
export function connectionTlsInfo(socket: object): ConnectionTlsInfo | undefined {
  return byConnection.get(socket);
}
