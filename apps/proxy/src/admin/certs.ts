/**
 * GET /certs: Envoy's admin.v3.Certificates (source/server/admin/server_info_handler.cc
 * handlerCerts): one entry per TLS context, with the CA it trusts and the certificates it presents.
 */
import type { X509Certificate } from 'node:crypto';
import { subjectAltNames } from '@il/core';
import type { CertificateSet, CertificateSource } from './context.js';

const DAY_MS = 24 * 60 * 60 * 1000;

type SubjectAltName = { dns: string } | { uri: string } | { ip_address: string };

/** RFC 3339 as protobuf's JSON mapping writes a Timestamp: no fractional seconds when there are none. */
function timestamp(date: Date): string {
  return date.toISOString().replace(/\.000Z$/, 'Z');
}

function sans(certificate: X509Certificate): SubjectAltName[] {
  const names = subjectAltNames(certificate);
  return [
    ...names.dns.map((dns) => ({ dns })),
    ...names.uri.map((uri) => ({ uri })),
    ...names.ip.map((ip_address) => ({ ip_address })),
  ];
}

function details({ path, certificate }: CertificateSource, now: number): Record<string, unknown> {
  const expires = new Date(certificate.validTo);
  return {
    path,
    // Envoy prints the serial as lower-case hex; node gives upper case.
    serial_number: certificate.serialNumber.toLowerCase(),
    subject_alt_names: sans(certificate),
    // A uint64, so a string in protobuf's JSON; 0 once expired.
    days_until_expiration: String(Math.max(0, Math.floor((expires.getTime() - now) / DAY_MS))),
    valid_from: timestamp(new Date(certificate.validFrom)),
    expiration_time: timestamp(expires),
  };
}

export function renderCerts(sets: readonly CertificateSet[], now = Date.now()): string {
  const certificates = sets.map((set) => ({
    ca_cert: set.caCert.map((c) => details(c, now)),
    cert_chain: set.certChain.map((c) => details(c, now)),
  }));
  return `${JSON.stringify({ certificates }, null, 2)}\n`;
}
