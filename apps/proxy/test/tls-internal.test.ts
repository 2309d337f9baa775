// A TLS hop inside one process: a cluster whose internal_upstream socket wraps an
// UpstreamTlsContext dials an internal listener whose filter chain is TLS (picked by the TLS
// inspector), so bytes cross the hop encrypted, with mutual TLS and SAN checks both ways.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { echoExchange, echoServer } from '../../../test-support/bulk.js';
import { makePki, type Leaf, type Pki } from '../../../test-support/pki.js';
import { waitFor, waitUntil } from '../../../test-support/wait.js';
import { adminStat, serve } from './il-proxy-process.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const SPIFFE = 'spiffe://cluster.local/ns/default/sa';
const MiB = 1024 * 1024;
let pki: Pki;
let server: Leaf;
let client: Leaf;
let stranger: Leaf;
let echo: Awaited<ReturnType<typeof echoServer>>;

beforeAll(async () => {
  pki = makePki();
  server = pki.leaf('server', { uri: [`${SPIFFE}/server`] });
  client = pki.leaf('client', { uri: [`${SPIFFE}/client`] });
  stranger = pki.leaf('stranger', { uri: ['spiffe://elsewhere.example/ns/x/sa/y'] });
  echo = await echoServer();
});
afterAll(async () => {
  await echo.close();
});

/** TcpProxy on 10000 -> (internal_upstream + TLS, presenting `presented`) -> internal TLS listener -> echo. */
function config(presented: Leaf): string {
  return `admin: { address: { socket_address: { address: 127.0.0.1, port_value: 9901 } } }
bootstrap_extensions:
- name: envoy.bootstrap.internal_listener
  typed_config: { "@type": type.googleapis.com/envoy.extensions.bootstrap.internal_listener.v3.InternalListener }
static_resources:
  listeners:
  - name: plain
    address: { socket_address: { address: 127.0.0.1, port_value: 10000 } }
    filter_chains:
    - filters:
      - name: tcp
        typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy, stat_prefix: plain, cluster: to_secure }
  - name: secure_internal
    internal_listener: {}
    listener_filters:
    - name: envoy.filters.listener.tls_inspector
      typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector }
    filter_chains:
    - filter_chain_match: { transport_protocol: tls, server_names: [secure.internal] }
      transport_socket:
        name: envoy.transport_sockets.tls
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
          require_client_certificate: true
          common_tls_context:
            tls_certificates: [{ certificate_chain: { filename: ${server.cert} }, private_key: { filename: ${server.key} } }]
            validation_context:
              trusted_ca: { filename: ${pki.ca} }
              match_typed_subject_alt_names: [{ san_type: URI, matcher: { exact: "${SPIFFE}/client" } }]
      filters:
      - name: tcp
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
          stat_prefix: secure
          cluster: echo
          access_log:
          - name: out
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog
              log_format: { text_format_source: { inline_string: "internal tls peer=%DOWNSTREAM_PEER_URI_SAN% version=%DOWNSTREAM_TLS_VERSION% sni=%REQUESTED_SERVER_NAME% bytes=%BYTES_RECEIVED%\\n" } }
  clusters:
  - name: to_secure
    transport_socket:
      name: envoy.transport_sockets.internal_upstream
      typed_config:
        "@type": type.googleapis.com/envoy.extensions.transport_sockets.internal_upstream.v3.InternalUpstreamTransport
        transport_socket:
          name: envoy.transport_sockets.tls
          typed_config:
            "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
            sni: secure.internal
            common_tls_context:
              tls_params: { tls_minimum_protocol_version: TLSv1_3, tls_maximum_protocol_version: TLSv1_3 }
              tls_certificates: [{ certificate_chain: { filename: ${presented.cert} }, private_key: { filename: ${presented.key} } }]
              validation_context:
                trusted_ca: { filename: ${pki.ca} }
                match_typed_subject_alt_names: [{ san_type: URI, matcher: { exact: "${SPIFFE}/server" } }]
    load_assignment:
      cluster_name: to_secure
      endpoints: [{ lb_endpoints: [{ endpoint: { address: { envoy_internal_address: { server_listener_name: secure_internal } } } }] }]
  - name: echo
    load_assignment: { cluster_name: echo, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${echo.port} } } } }] }] }
`;
}

async function start(presented: Leaf) {
  const proxy = await serve(config(presented), [], { ports: new Map([[echo.port, echo.port]]) });
  cleanups.push(proxy.cleanup);
  const stats = async (): Promise<string> => (await fetch(`http://127.0.0.1:${proxy.ports.get(9901) as number}/stats`)).text();
  const stat = (name: string): Promise<number> => adminStat(proxy.ports.get(9901) as number, name);
  return { ...proxy, port: proxy.ports.get(10000) as number, stats, stat };
}

describe('TLS on an internal listener, dialled through internal_upstream wrapping UpstreamTlsContext', () => {
  it('carries 16 MiB each way sha256-intact over mutual TLS inside one process; both ends check SANs and count the handshake', async () => {
    const proxy = await start(client);
    const exchanges = await Promise.all([1, 2, 3, 4].map(() => echoExchange(proxy.port, 4 * MiB)));
    for (const exchange of exchanges) {
      expect(exchange.received).toBe(exchange.sent);
      expect(exchange.receivedSha256).toBe(exchange.sentSha256);
    }
    expect(await proxy.stat('cluster.to_secure.ssl.handshake')).toBe(4);
    expect(await proxy.stat('cluster.to_secure.ssl.versions.TLSv1.3')).toBe(4);
    expect(await proxy.stats()).toMatch(/^listener\.[^\n]*\.ssl\.handshake: 4$/m);
    await waitFor(() => (proxy.proxy.stdout().match(/internal tls /g) ?? []).length === 4, 15_000, 'four access log lines');
    expect(proxy.proxy.stdout()).toContain(`internal tls peer=${SPIFFE}/client version=TLSv1.3 sni=secure.internal bytes=${4 * MiB}`);
  }, 120_000);

  it('a client certificate of the wrong identity is refused by the internal listener (ssl.fail_verify_san) and the downstream is closed', async () => {
    const proxy = await start(stranger);
    const refused = await echoExchange(proxy.port, 64 * 1024).catch(() => undefined);
    expect(refused === undefined || refused.received === 0).toBe(true);
    await waitUntil(async () => /^listener\.[^\n]*\.ssl\.fail_verify_san: 1$/m.test(await proxy.stats()), 15_000, 'the refusal to be counted');
    // (The client's side counts a handshake: in TLS 1.3 the server judges the client's certificate after the client finished.)
    expect(await proxy.stat('cluster.echo.upstream_cx_total')).toBe(0);
    expect(proxy.proxy.stdout()).not.toContain('internal tls ');
  }, 60_000);
});
