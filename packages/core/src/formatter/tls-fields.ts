/**
 * The TLS fields of Envoy's format strings (`%DOWNSTREAM_PEER_URI_SAN%`, `%UPSTREAM_TLS_VERSION%`...),
 * read from a connection's ConnectionTlsInfo, printed as Envoy prints them.
 */
import { createHash, type X509Certificate } from 'node:crypto';
import { subjectAltNames } from '../transport-sockets/tls/tls-context.js';
import type { ConnectionTlsInfo } from '../transport-sockets/tls/tls-info.js';

type Field = (info: ConnectionTlsInfo) => string | undefined;

const joined = (values: readonly string[]): string | undefined => (values.length === 0 ? undefined : values.join(','));

/** RFC 2253, as Envoy prints names: most specific last in node's text, first here, comma-separated. */
function rfc2253(name: string): string {
  return name.split('\n').filter((part) => part !== '').reverse().join(',');
}

const hex = (cert: X509Certificate, algorithm: 'sha256' | 'sha1'): string => createHash(algorithm).update(cert.raw).digest('hex');

function certField(pick: (info: ConnectionTlsInfo) => X509Certificate | undefined, read: (cert: X509Certificate) => string | undefined): Field {
  return (info) => {
    const cert = pick(info);
    return cert === undefined ? undefined : read(cert);
  };
}

const peer = (info: ConnectionTlsInfo): X509Certificate | undefined => info.peerCertificate;
const local = (info: ConnectionTlsInfo): X509Certificate | undefined => info.localCertificate;

/** Field name (after `DOWNSTREAM_` / `UPSTREAM_`) → how to print it. */
export const TLS_FIELDS: ReadonlyMap<string, Field> = new Map<string, Field>([
  ['PEER_URI_SAN', certField(peer, (c) => joined(subjectAltNames(c).uri))],
  ['PEER_DNS_SAN', certField(peer, (c) => joined(subjectAltNames(c).dns))],
  ['PEER_IP_SAN', certField(peer, (c) => joined(subjectAltNames(c).ip))],
  ['PEER_EMAIL_SAN', certField(peer, (c) => joined(subjectAltNames(c).email))],
  ['PEER_OTHERNAME_SAN', () => undefined],
  ['PEER_SUBJECT', certField(peer, (c) => rfc2253(c.subject))],
  ['PEER_ISSUER', certField(peer, (c) => rfc2253(c.issuer))],
  ['PEER_CERT', certField(peer, (c) => encodeURIComponent(c.toString()))],
  ['PEER_SERIAL', certField(peer, (c) => c.serialNumber.toLowerCase())],
  ['PEER_FINGERPRINT_256', certField(peer, (c) => hex(c, 'sha256'))],
  ['PEER_FINGERPRINT_1', certField(peer, (c) => hex(c, 'sha1'))],
  ['PEER_CHAIN_FINGERPRINTS_256', (info) => joined(info.peerChain.map((c) => hex(c, 'sha256')))],
  ['PEER_CHAIN_FINGERPRINTS_1', (info) => joined(info.peerChain.map((c) => hex(c, 'sha1')))],
  ['PEER_CHAIN_SERIALS', (info) => joined(info.peerChain.map((c) => c.serialNumber.toLowerCase()))],
  ['LOCAL_URI_SAN', certField(local, (c) => joined(subjectAltNames(c).uri))],
  ['LOCAL_DNS_SAN', certField(local, (c) => joined(subjectAltNames(c).dns))],
  ['LOCAL_IP_SAN', certField(local, (c) => joined(subjectAltNames(c).ip))],
  ['LOCAL_EMAIL_SAN', certField(local, (c) => joined(subjectAltNames(c).email))],
  ['LOCAL_OTHERNAME_SAN', () => undefined],
  ['LOCAL_SUBJECT', certField(local, (c) => rfc2253(c.subject))],
  ['TLS_SESSION_ID', (info) => info.sessionId],
  ['TLS_CIPHER', (info) => info.cipher],
  ['TLS_VERSION', (info) => info.version],
]);

/** `PEER_CERT_V_START` / `_V_END`: the validity of the peer's certificate. */
export const TLS_TIME_FIELDS: ReadonlyMap<string, (info: ConnectionTlsInfo) => Date | undefined> = new Map([
  ['PEER_CERT_V_START', (info: ConnectionTlsInfo) => mapDate(info.peerCertificate?.validFrom)],
  ['PEER_CERT_V_END', (info: ConnectionTlsInfo) => mapDate(info.peerCertificate?.validTo)],
]);

function mapDate(text: string | undefined): Date | undefined {
  if (text === undefined) return undefined;
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? undefined : date;
}
