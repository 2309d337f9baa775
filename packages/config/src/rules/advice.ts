/** Warnings: config il accepts but that will not do what its author may expect. */
import type { Bootstrap } from '../api/bootstrap.js';
import { tcpProxy } from '../api/tcp-proxy.js';
import { HTTP_PROTOCOL_OPTIONS_KEY } from '../constants.js';
import type { RuleFinding } from './cross-references.js';
import { filterChains, tlsContexts } from './cross-references.js';

export function advise(b: Bootstrap): RuleFinding[] {
  const findings: RuleFinding[] = [];
  const autoConfigClusters = new Set(b.static_resources.clusters.filter((c) => c.typed_extension_protocol_options?.[HTTP_PROTOCOL_OPTIONS_KEY]?.auto_config !== undefined).map((c) => c.name));
  b.static_resources.listeners.forEach((l, i) => {
    const at = ['static_resources', 'listeners', i];
    if (!l.internal_listener) {
      const inert: [string, boolean][] = [
        ['socket_options', l.socket_options.length > 0],
        ['freebind', l.freebind === true],
        ['transparent', l.transparent === true],
        ['tcp_fast_open_queue_length', l.tcp_fast_open_queue_length !== undefined],
        ['enable_mptcp', l.enable_mptcp],
        ['enable_reuse_port', l.enable_reuse_port === true],
        ['connection_balance_config', l.connection_balance_config !== undefined],
      ];
      for (const [field, set] of inert) if (set) findings.push({ path: [...at, field], message: `${field} has no effect: Node.js listeners cannot apply it` });
    }
    for (const { chain, path } of filterChains(l, i)) {
      if (chain.filters.length === 0) findings.push({ path: [...path, 'filters'], message: 'the filter chain has no network filters: connections it matches are closed' });
      chain.filters.forEach((filter, k) => {
        const config = filter.typed_config;
        if (config['@type'] === tcpProxy.typeUrl && config.on_demand) {
          findings.push({ path: [...path, 'filters', k, 'typed_config', 'on_demand'], message: 'on_demand has no effect: il has no xDS, so clusters are never discovered on demand' });
        }
        if (config['@type'] === tcpProxy.typeUrl && config.tunneling_config !== undefined && config.cluster !== undefined && autoConfigClusters.has(config.cluster)) {
          findings.push({
            path: [...path, 'filters', k, 'typed_config', 'tunneling_config'],
            message: `cluster '${config.cluster}' uses auto_config: il tunnels to it in HTTP/1.1 (offering ALPN http/1.1 only), not HTTP/2; use explicit_http_config with http2_protocol_options for HTTP/2 CONNECT`,
          });
        }
      });
    }
  });
  for (const { common, path } of tlsContexts(b)) {
    const params = common.tls_params;
    // A client's default maximum is TLS 1.2 (Envoy's): a minimum of 1.3 alone fails every handshake.
    if (path[1] === 'clusters' && params?.tls_minimum_protocol_version === 'TLSv1_3' && params.tls_maximum_protocol_version === 'TLS_AUTO') {
      findings.push({
        path: [...path, 'tls_params', 'tls_maximum_protocol_version'],
        message: 'an upstream TLS context defaults to tls_maximum_protocol_version TLSv1_2, below the minimum TLSv1_3: every handshake fails; set tls_maximum_protocol_version: TLSv1_3',
      });
    }
  }
  return findings;
}
