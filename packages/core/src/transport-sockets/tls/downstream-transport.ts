import type { FilterChain, Secret } from '@il/config/runtime';
import type { DownstreamTls } from './downstream-tls.js';
import { compileTlsContext } from './tls-context.js';

const DOWNSTREAM_TLS = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext';

/** A filter chain's DownstreamTlsContext compiled once, or undefined for raw_buffer. */
export function downstreamTlsOf(chain: FilterChain, secrets: readonly Secret[]): DownstreamTls | undefined {
  const config = chain.transport_socket?.typed_config;
  if (config === undefined || config['@type'] !== DOWNSTREAM_TLS) return undefined;
  const tls = config;
  return {
    context: compileTlsContext(tls.common_tls_context, { side: 'server', secrets }),
    requireClientCertificate: tls.require_client_certificate,
    requireSni: tls.require_sni,
    handshakeTimeoutMs: chain.transport_socket_connect_timeout?.ms ?? 0,
  };
}
