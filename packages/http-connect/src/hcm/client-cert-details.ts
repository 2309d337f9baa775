/**
 * Envoy's x-forwarded-client-cert (XFCC) handling (ConnectionManagerUtility::mutateXfccRequestHeader):
 * on a TLS connection whose client presented a certificate, the header is sanitized, forwarded,
 * appended to or set as `forward_client_cert_details` says, and this hop's element carries
 * `By` (our URI SAN), `Hash` (the client certificate's SHA-256) and what
 * `set_current_client_cert_details` asks for. That is how the peer's identity reaches routing
 * (header matchers) and the upstream.
 */
import { createHash } from 'node:crypto';
import type { HttpConnectionManager } from '@il/config/runtime';
import type { HeaderMap, StreamInfo } from '@il/core';
import { firstValue, removeHeader } from './headers.js';

type Mode = HttpConnectionManager['forward_client_cert_details'];
type Details = HttpConnectionManager['set_current_client_cert_details'];

const XFCC = 'x-forwarded-client-cert';

/** A value as XFCC quotes it: in double quotes when it holds `,;="`, inner quotes escaped. */
function quoted(value: string): string {
  return /[,;="]/.test(value) ? `"${value.replace(/"/g, '\\"')}"` : value;
}

function sans(text: string | undefined, kind: 'DNS' | 'URI'): string[] {
  if (text === undefined) return [];
  return text
    .split(/, (?=(?:DNS|URI|IP Address|email|othername|DirName|Registered ID):)/)
    .filter((entry) => entry.startsWith(`${kind}:`))
    .map((entry) => entry.slice(kind.length + 1));
}

/** This hop's XFCC element for the connection's client certificate, or undefined without one. */
function element(info: StreamInfo, details: Details): string | undefined {
  const tls = info.downstreamTls;
  const peer = tls?.peerCertificate;
  if (tls === undefined || peer === undefined) return undefined;
  const parts: string[] = [];
  for (const uri of sans(tls.localCertificate?.subjectAltName, 'URI')) parts.push(`By=${quoted(uri)}`);
  parts.push(`Hash=${createHash('sha256').update(peer.raw).digest('hex')}`);
  if (details?.cert === true) parts.push(`Cert=${quoted(encodeURIComponent(peer.toString()))}`);
  if (details?.chain === true) parts.push(`Chain=${quoted(encodeURIComponent(tls.peerChain.map((c) => c.toString()).join('')))}`);
  if (details?.subject === true) parts.push(`Subject=${quoted(peer.subject.split('\n').reverse().join(','))}`);
  if (details?.uri === true) for (const uri of sans(peer.subjectAltName, 'URI')) parts.push(`URI=${quoted(uri)}`);
  if (details?.dns === true) for (const dns of sans(peer.subjectAltName, 'DNS')) parts.push(`DNS=${quoted(dns)}`);
  return parts.join(';');
}

/** Applies forward_client_cert_details to the request headers (before routing, as Envoy does). */
export function mutateClientCertHeader(headers: HeaderMap, info: StreamInfo, mode: Mode, details: Details): void {
  const mtls = info.downstreamTls?.peerCertificate !== undefined;
  // Without mutual TLS only ALWAYS_FORWARD_ONLY keeps a client's header.
  if (!mtls) {
    if (mode !== 'ALWAYS_FORWARD_ONLY') removeHeader(headers, XFCC);
    return;
  }
  switch (mode) {
    case 'SANITIZE':
      removeHeader(headers, XFCC);
      return;
    case 'FORWARD_ONLY':
    case 'ALWAYS_FORWARD_ONLY':
      return;
    case 'APPEND_FORWARD': {
      const own = element(info, details);
      if (own === undefined) return;
      const existing = firstValue(headers, XFCC);
      headers[XFCC] = existing === undefined || existing === '' ? own : `${existing},${own}`;
      return;
    }
    case 'SANITIZE_SET': {
      const own = element(info, details);
      if (own === undefined) removeHeader(headers, XFCC);
      else headers[XFCC] = own;
      return;
    }
  }
}
