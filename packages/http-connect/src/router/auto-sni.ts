import { isIP } from 'node:net';
import type { HeaderMap, TransportSocketOptions, UpstreamCluster } from '@il/core';
import { firstValue } from '../hcm/headers.js';

/**
 * Envoy's auto_sni and auto_san_validation (the cluster's UpstreamHttpProtocolOptions): the
 * request's host (or the header named by override_auto_sni_header, when present and non-empty)
 * becomes the upstream connection's SNI, unless it is an IP address, and the one name its
 * certificate must carry. Undefined when the cluster asks for neither.
 */
export function autoTransportSocketOptions(cluster: UpstreamCluster, headers: HeaderMap, authority: string): TransportSocketOptions | undefined {
  const options = cluster.upstreamHttpOptions;
  if (options === undefined || (!options.auto_sni && !options.auto_san_validation)) return undefined;
  let value = authority;
  if (options.override_auto_sni_header !== '') {
    const override = firstValue(headers, options.override_auto_sni_header.toLowerCase());
    if (override !== undefined && override !== '') value = override;
  }
  const { host, isIpAddress } = parseAuthority(value);
  if (host === '') return undefined;
  return {
    serverNameOverride: options.auto_sni && !isIpAddress ? host : undefined,
    verifySubjectAltNameListOverride: options.auto_san_validation ? [host] : undefined,
  };
}

/** Envoy's Http::Utility::parseAuthority: the host without its port or IPv6 brackets. */
export function parseAuthority(authority: string): { host: string; isIpAddress: boolean } {
  if (authority.startsWith('[')) {
    const end = authority.indexOf(']');
    const host = end === -1 ? authority.slice(1) : authority.slice(1, end);
    return { host, isIpAddress: isIP(host) === 6 };
  }
  const colon = authority.lastIndexOf(':');
  // A bare IPv6 address has several colons and no port.
  const host = colon !== -1 && authority.indexOf(':') === colon ? authority.slice(0, colon) : authority;
  return { host, isIpAddress: isIP(host) !== 0 };
}
