/**
 * What one upstream connection asks of its transport socket beyond the cluster's config (Envoy's
 * Network::TransportSocketOptions): the router's auto_sni and auto_san_validation put the
 * request's host here. Connections with different options never share a pool.
 */
export interface TransportSocketOptions {
  /** SNI, in place of the UpstreamTlsContext's `sni` (Envoy's serverNameOverride). */
  readonly serverNameOverride?: string | undefined;
  /** The names the server certificate must carry, in place of the configured SAN matchers. */
  readonly verifySubjectAltNameListOverride?: readonly string[] | undefined;
  /** The ALPN protocols to offer, in place of the context's (Envoy's applicationProtocolListOverride). */
  readonly applicationProtocolListOverride?: readonly string[] | undefined;
}

/** A pool-key fragment: equal for options that open equal connections, '' for none. */
export function transportSocketOptionsKey(options: TransportSocketOptions | undefined): string {
  if (options === undefined) return '';
  const sni = options.serverNameOverride ?? '';
  const sans = options.verifySubjectAltNameListOverride ?? [];
  const alpn = options.applicationProtocolListOverride ?? [];
  if (sni === '' && sans.length === 0 && alpn.length === 0) return '';
  return `sni=${sni};san=${sans.join(',')};alpn=${alpn.join(',')}`;
}
