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

export function tlsInfoOf(socket: TLSSocket, localCertificate: X509Certificate | undefined): ConnectionTlsInfo {
  const peer = socket.getPeerX509Certificate();
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
    localCertificate: socket.getX509Certificate() ?? localCertificate,
  };
}
