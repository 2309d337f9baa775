import type { Cluster, ClusterTransportSocket, Secret, UpstreamTlsContext } from '@il/config/runtime';
import type { Metadata } from '@il/config/runtime';
import { compileTlsContext, type TlsContext } from './tls-context.js';
import type { UpstreamTls } from './upstream-tls.js';

const UPSTREAM_TLS = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext';
/** The endpoint (or locality) metadata namespace transport_socket_matches look at. */
const MATCH_NAMESPACE = 'envoy.transport_socket_match';

/** The UpstreamTlsContext of a cluster transport socket, direct or inside internal_upstream. */
function upstreamTlsOf(socket: ClusterTransportSocket | undefined): UpstreamTlsContext | undefined {
  const config = socket?.typed_config;
  if (config === undefined) return undefined;
  if (config['@type'] === UPSTREAM_TLS) return config;
  if ('transport_socket' in config) {
    const inner = config.transport_socket.typed_config;
    if (inner['@type'] === UPSTREAM_TLS) return inner;
  }
  return undefined;
}

/** Whether every key of `match` has the same value in the metadata namespace. */
function matches(match: Readonly<Record<string, unknown>>, metadata: Metadata | undefined): boolean {
  const values = metadata?.filter_metadata[MATCH_NAMESPACE];
  if (Object.keys(match).length === 0) return true;
  if (values === undefined) return false;
  return Object.entries(match).every(([key, value]) => JSON.stringify(values[key]) === JSON.stringify(value));
}

/**
 * A cluster's upstream TLS, compiled once per transport socket: the cluster's own, or the first of
 * transport_socket_matches whose match the host's `envoy.transport_socket_match` metadata
 * satisfies (Envoy's TransportSocketMatcher). ALPN defaults to the cluster's HTTP version.
 */
export class UpstreamTransport {
  readonly #cluster: Cluster;
  readonly #secrets: readonly Secret[];
  readonly #defaultAlpn: readonly string[];
  readonly #compiled = new Map<UpstreamTlsContext, UpstreamTls>();

  constructor(cluster: Cluster, secrets: readonly Secret[], defaultAlpn: readonly string[]) {
    this.#cluster = cluster;
    this.#secrets = secrets;
    this.#defaultAlpn = defaultAlpn;
    // Compiled up front: a bad certificate fails the start, not the first connection.
    for (const socket of [cluster.transport_socket, ...cluster.transport_socket_matches.map((m) => m.transport_socket)]) {
      const context = upstreamTlsOf(socket);
      if (context !== undefined) this.#compile(context);
    }
  }

  /** True when some host of the cluster may be reached over TLS. */
  get any(): boolean {
    return this.#compiled.size > 0;
  }

  /** Every compiled context (admin /certs). */
  contexts(): TlsContext[] {
    return [...this.#compiled.values()].map((tls) => tls.context);
  }

  /** The TLS a connection to a host with this metadata uses, if any. */
  forHost(metadata: Metadata | undefined): UpstreamTls | undefined {
    const match = this.#cluster.transport_socket_matches.find((m) => matches(m.match, metadata));
    const context = upstreamTlsOf(match === undefined ? this.#cluster.transport_socket : match.transport_socket);
    return context === undefined ? undefined : this.#compile(context);
  }

  #compile(config: UpstreamTlsContext): UpstreamTls {
    let compiled = this.#compiled.get(config);
    if (compiled === undefined) {
      const common = config.common_tls_context.alpn_protocols.length > 0 ? config.common_tls_context : { ...config.common_tls_context, alpn_protocols: [...this.#defaultAlpn] };
      compiled = {
        context: compileTlsContext(common, { side: 'client', secrets: this.#secrets }),
        sni: config.sni,
        autoHostSni: config.auto_host_sni,
        autoSniSanValidation: config.auto_sni_san_validation,
      };
      this.#compiled.set(config, compiled);
    }
    return compiled;
  }
}
