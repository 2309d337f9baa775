// Config files of the subjects, generated with the ports of the run. The il-proxy ones are Envoy
// v3 bootstraps in the shapes of examples/*.yaml and ../shared/envoy-configs/*.yaml; the peers'
// ones keep each program's defaults except where noted (and BENCHMARKS.md says where).
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';

// ---------------------------------------------------------------- HAProxy

/** The `defaults` section every HAProxy subject shares. */
const haproxyDefaults = (/** @type {'tcp'|'http'} */ mode) => `defaults
  mode ${mode}
  timeout connect 5s
  timeout client 60s
  timeout server 60s
`;

/**
 * @param {{port: number, backendPort: number, mode: 'tcp'|'http', h2?: boolean, bufsize?: number}} o
 */
export function haproxyConfig({ port, backendPort, mode, h2 = false, bufsize }) {
  return `global
${bufsize ? `  tune.bufsize ${bufsize}\n` : ''}
${haproxyDefaults(mode)}
frontend bench
  bind 127.0.0.1:${port}${h2 ? ' proto h2' : ''}
  default_backend upstream

backend upstream
  server s1 127.0.0.1:${backendPort}
`;
}

// ---------------------------------------------------------------- nginx

/** `user` only means something to a master running as root: keep workers as the current user. */
function nginxMain(dir) {
  const user = process.getuid?.() === 0 ? `user ${userInfo().username};\n` : '';
  return `${user}worker_processes auto;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
`;
}

const NGINX_STREAM_MODULE = '/usr/lib/nginx/modules/ngx_stream_module.so';
export { NGINX_STREAM_MODULE };

/** nginx `stream` proxy (needs Debian's libnginx-mod-stream). */
export function nginxStreamConfig({ dir, port, backendPort }) {
  return `load_module ${NGINX_STREAM_MODULE};
${nginxMain(dir)}
stream {
  server {
    listen 127.0.0.1:${port};
    proxy_pass 127.0.0.1:${backendPort};
  }
}
`;
}

/**
 * nginx `http` reverse proxy. Without upstream keepalive nginx opens one backend connection per
 * request and exhausts the loopback's ephemeral ports within seconds, so keepalive is on;
 * keepalive_requests is raised so clients are not reconnected every 1000 requests.
 * @param {{dir: string, port: number, backendPort: number, h2?: boolean}} o
 */
export function nginxHttpConfig({ dir, port, backendPort, h2 = false }) {
  return `${nginxMain(dir)}
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  keepalive_requests 1000000;
  upstream backend {
    server 127.0.0.1:${backendPort};
    keepalive 64;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:${port}${h2 ? ' http2' : ''};
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
`;
}

/**
 * The HTTP backend of the HTTP benches: one nginx worker answering a fixed 13-byte body, on an
 * HTTP/1.1 port and an h2c (prior knowledge) port. Cheaper per request than any Node server, so
 * the proxies, not the backend, set the pace.
 */
export function nginxBackendConfig({ dir, port, h2Port }) {
  return `${nginxMain(dir).replace('worker_processes auto;', 'worker_processes 1;')}
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  keepalive_requests 1000000;
  keepalive_timeout 120s;
  server {
    listen 127.0.0.1:${port};
    listen 127.0.0.1:${h2Port} http2;
    location / {
      default_type text/plain;
      return 200 "Hello, world!";
    }
  }
}
`;
}

// ---------------------------------------------------------------- il-proxy (Envoy v3 YAML)

const INTERNAL_LISTENER_EXTENSION = `bootstrap_extensions:
- name: envoy.bootstrap.internal_listener
  typed_config:
    "@type": type.googleapis.com/envoy.extensions.bootstrap.internal_listener.v3.InternalListener
`;

const ROUTER = `          http_filters:
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router`;

/** @param {string} name @param {number} port */
const tcpListenerHead = (name, port) => `  - name: ${name}
    address:
      socket_address: { address: 127.0.0.1, port_value: ${port} }`;

/** @param {string} name */
const internalListenerHead = (name) => `  - name: ${name}
    internal_listener: {}`;

/** A filter chain holding one TcpProxy. @param {string} statPrefix @param {string} cluster @param {string} [tunnelingHost] */
const tcpProxyChain = (statPrefix, cluster, tunnelingHost) => `    filter_chains:
    - filters:
      - name: envoy.filters.network.tcp_proxy
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
          stat_prefix: ${statPrefix}
          cluster: ${cluster}${
            tunnelingHost
              ? `
          tunneling_config:
            hostname: ${tunnelingHost}`
              : ''
          }`;

/** A filter chain holding an HCM whose every request goes to `route`. */
const hcmChain = (/** @type {string} */ statPrefix, /** @type {string} */ route) => `    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ${statPrefix}
          codec_type: AUTO
          route_config:
            name: ${statPrefix}_route
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
              - match: { prefix: "/" }
${route}
${ROUTER}`;

/** An HCM that terminates CONNECT (HTTP/2 or HTTP/1.1) into `cluster` as raw TCP. */
const connectTerminatorChain = (/** @type {string} */ statPrefix, /** @type {string} */ cluster) => `    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ${statPrefix}
          codec_type: AUTO
          http2_protocol_options:
            allow_connect: true
          upgrade_configs:
          - upgrade_type: CONNECT
          route_config:
            name: ${statPrefix}_route
            virtual_hosts:
            - name: tunnels
              domains: ["*"]
              routes:
              - match:
                  connect_matcher: {}
                route:
                  cluster: ${cluster}
                  upgrade_configs:
                  - upgrade_type: CONNECT
                    connect_config: {}
${ROUTER}`;

const ROUTE_TO = (/** @type {string} */ cluster) => `                route: { cluster: ${cluster} }`;
const HELLO = `                direct_response:
                  status: 200
                  body: { inline_string: "Hello, world!" }`;

/**
 * Envoy's default circuit breakers allow 1024 connections and 1024 requests (tunnels) per cluster;
 * the idle-tunnel bench holds 10,000 open, so every cluster raises them, as an Envoy user would.
 */
const CIRCUIT_BREAKERS = `
    circuit_breakers:
      thresholds:
      - { max_connections: 100000, max_pending_requests: 100000, max_requests: 100000 }`;

/** @param {string} name @param {number} port @param {{h2?: boolean}} [o] */
const tcpCluster = (name, port, o = {}) => `  - name: ${name}
    connect_timeout: 1s${CIRCUIT_BREAKERS}${
      o.h2
        ? `
    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        explicit_http_config:
          http2_protocol_options: {}`
        : ''
    }
    load_assignment:
      cluster_name: ${name}
      endpoints:
      - lb_endpoints:
        - endpoint:
            address:
              socket_address: { address: 127.0.0.1, port_value: ${port} }`;

/** @param {string} name @param {string} listener */
const internalCluster = (name, listener) => `  - name: ${name}${CIRCUIT_BREAKERS}
    load_assignment:
      cluster_name: ${name}
      endpoints:
      - lb_endpoints:
        - endpoint:
            address:
              envoy_internal_address: { server_listener_name: ${listener} }`;

/** @param {string} what @param {string[]} listeners @param {string[]} clusters @param {boolean} [internal] */
const bootstrap = (what, listeners, clusters, internal = false) => `# ${what} (generated by bench/lib/configs.mjs)
${internal ? INTERNAL_LISTENER_EXTENSION : ''}
static_resources:
  listeners:
${listeners.join('\n\n')}

  clusters:
${clusters.join('\n\n')}
`;

/** TcpProxy: 127.0.0.1:port -> 127.0.0.1:backendPort. */
export function ilTcpProxyConfig({ port, backendPort }) {
  return bootstrap(
    'il-proxy TcpProxy',
    [`${tcpListenerHead('ingress', port)}\n${tcpProxyChain('ingress', 'upstream')}`],
    [tcpCluster('upstream', backendPort)],
  );
}

/** The internal-listener chain: port (TcpProxy) -> internal "encap" (TcpProxy) -> backendPort. */
export function ilInternalChainConfig({ port, backendPort }) {
  return bootstrap(
    'il-proxy TcpProxy -> internal listener -> TcpProxy (examples/tcp-chain.yaml)',
    [
      `${tcpListenerHead('ingress', port)}\n${tcpProxyChain('ingress', 'encap_cluster')}`,
      `${internalListenerHead('encap')}\n${tcpProxyChain('encap', 'upstream')}`,
    ],
    [internalCluster('encap_cluster', 'encap'), tcpCluster('upstream', backendPort)],
    true,
  );
}

/** Encap half of the TCP tunnel: port (TcpProxy, tunneling_config) -HTTP/2 CONNECT-> decapPort. */
export function ilTunnelEncapConfig({ port, decapPort }) {
  return bootstrap(
    'il-proxy encap: raw TCP into HTTP/2 CONNECT (encapsulate_in_http2_connect.yaml)',
    [`${tcpListenerHead('encap', port)}\n${tcpProxyChain('encap', 'tunnel', 'host.com:443')}`],
    [tcpCluster('tunnel', decapPort, { h2: true })],
  );
}

/** Decap half of the TCP tunnel: decapPort (HCM terminating CONNECT) -> backendPort. */
export function ilTunnelDecapConfig({ decapPort, backendPort }) {
  return bootstrap(
    'il-proxy decap: terminate CONNECT into raw TCP (terminate_http2_connect.yaml)',
    [`${tcpListenerHead('connect', decapPort)}\n${connectTerminatorChain('connect', 'upstream')}`],
    [tcpCluster('upstream', backendPort)],
  );
}

/** HCM routing: port -> cluster of one HTTP/1.1 backend. Codec AUTO, so h2c clients work too. */
export function ilHcmConfig({ port, backendPort }) {
  return bootstrap(
    'il-proxy HCM routing to one HTTP/1.1 backend',
    [`${tcpListenerHead('http', port)}\n${hcmChain('http', ROUTE_TO('backend'))}`],
    [tcpCluster('backend', backendPort)],
  );
}

/** Encap half of the seed tunnel: HCM on port -> internal "encap" (TcpProxy, tunneling) -> decapPort. */
export function ilSeedEncapConfig({ port, decapPort }) {
  return bootstrap(
    'il-proxy seed tunnel, encap half (examples/encap.yaml)',
    [
      `${tcpListenerHead('http', port)}\n${hcmChain('http', ROUTE_TO('encap_cluster'))}`,
      `${internalListenerHead('encap')}\n${tcpProxyChain('encap', 'tunnel', 'host.com:443')}`,
    ],
    [internalCluster('encap_cluster', 'encap'), tcpCluster('tunnel', decapPort, { h2: true })],
    true,
  );
}

/** Decap half of the seed tunnel: decapPort (HCM, CONNECT) -> internal "decap" (HCM) -> 200 "Hello, world!". */
export function ilSeedDecapConfig({ decapPort }) {
  return bootstrap(
    'il-proxy seed tunnel, decap half (examples/decap.yaml)',
    [
      `${tcpListenerHead('connect', decapPort)}\n${connectTerminatorChain('connect', 'decap_cluster')}`,
      `${internalListenerHead('decap')}\n${hcmChain('decap', HELLO)}`,
    ],
    [internalCluster('decap_cluster', 'decap')],
    true,
  );
}

// ---------------------------------------------------------------- TLS (issue #14)
//
// Every TLS subject speaks TLS 1.3 only, with the bench's ECDSA P-256 certificate
// (bench/lib/certs.mjs). The loads offer TLS_AES_128_GCM_SHA256 only and the sink accepts only
// that, so both legs of every proxy negotiate it; the peers are also configured for it, so that
// they would refuse rather than pick another. il-proxy has no TLS 1.3 cipher setting (Envoy's
// cipher_suites are TLS 1.2's): it takes the client's choice as Node does.

export const TLS13_CIPHER = 'TLS_AES_128_GCM_SHA256';

/** @typedef {import('./certs.mjs').BenchCerts} BenchCerts */

/**
 * HAProxy terminating TLS (`bind ... ssl crt`): mode tcp re-encrypts to the backend
 * (`server ... ssl verify required ca-file`); mode http answers 200 "Hello, world!" itself.
 * @param {{port: number, backendPort?: number, mode: 'tcp'|'http', certs: BenchCerts, bufsize?: number}} o
 */
export function haproxyTlsConfig({ port, backendPort, mode, certs, bufsize }) {
  const tail =
    mode === 'tcp'
      ? `  default_backend upstream

backend upstream
  server s1 127.0.0.1:${backendPort} ssl verify required ca-file ${certs.ca}
`
      : `  http-request return status 200 content-type text/plain string "Hello, world!"
`;
  return `global
${bufsize ? `  tune.bufsize ${bufsize}\n` : ''}  ssl-default-bind-ciphersuites ${TLS13_CIPHER}
  ssl-default-bind-options ssl-min-ver TLSv1.3 ssl-max-ver TLSv1.3
  ssl-default-server-ciphersuites ${TLS13_CIPHER}
  ssl-default-server-options ssl-min-ver TLSv1.3 ssl-max-ver TLSv1.3

${haproxyDefaults(mode)}
frontend bench
  bind 127.0.0.1:${port} ssl crt ${certs.certAndKey}
${tail}`;
}

/** nginx terminating TLS, answering 200 "Hello, world!" itself (the handshake bench). */
export function nginxTlsConfig(/** @type {{dir: string, port: number, certs: BenchCerts}} */ { dir, port, certs }) {
  return `${nginxMain(dir)}
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  server {
    listen 127.0.0.1:${port} ssl;
    ssl_certificate ${certs.cert};
    ssl_certificate_key ${certs.key};
    ssl_protocols TLSv1.3;
    ssl_conf_command Ciphersuites ${TLS13_CIPHER};
    location / {
      default_type text/plain;
      return 200 "Hello, world!";
    }
  }
}
`;
}

const TLS_PARAMS_13 = '{ tls_minimum_protocol_version: TLSv1_3, tls_maximum_protocol_version: TLSv1_3 }';

/** Puts a DownstreamTlsContext (the bench certificate, TLS 1.3) on the first filter chain of `chain`. */
function withDownstreamTls(/** @type {string} */ chain, /** @type {BenchCerts} */ certs) {
  return chain.replace(
    '    - filters:\n',
    `    - transport_socket:
        name: envoy.transport_sockets.tls
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
          common_tls_context:
            tls_params: ${TLS_PARAMS_13}
            tls_certificates:
            - certificate_chain: { filename: ${certs.cert} }
              private_key: { filename: ${certs.key} }
      filters:
`,
  );
}

/** Puts an UpstreamTlsContext (TLS 1.3, chain verified against the bench CA) on a cluster. */
function withUpstreamTls(/** @type {string} */ cluster, /** @type {BenchCerts} */ certs) {
  return cluster.replace(
    '    load_assignment:',
    `    transport_socket:
      name: envoy.transport_sockets.tls
      typed_config:
        "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
        common_tls_context:
          tls_params: ${TLS_PARAMS_13}
          validation_context:
            trusted_ca: { filename: ${certs.ca} }
    load_assignment:`,
  );
}

/** TcpProxy with TLS on both sides: TLS on port -> TLS to backendPort. */
export function ilTlsTcpProxyConfig(/** @type {{port: number, backendPort: number, certs: BenchCerts}} */ { port, backendPort, certs }) {
  return bootstrap(
    'il-proxy TcpProxy, DownstreamTlsContext on the listener, UpstreamTlsContext on the cluster',
    [`${tcpListenerHead('ingress', port)}\n${withDownstreamTls(tcpProxyChain('ingress', 'upstream'), certs)}`],
    [withUpstreamTls(tcpCluster('upstream', backendPort), certs)],
  );
}

/** HCM on a TLS listener answering 200 "Hello, world!" (direct_response): the handshake bench. */
export function ilTlsHcmConfig(/** @type {{port: number, certs: BenchCerts}} */ { port, certs }) {
  return bootstrap(
    'il-proxy HCM direct_response on a TLS listener',
    [`${tcpListenerHead('https', port)}\n${withDownstreamTls(hcmChain('https', HELLO), certs)}`],
    [],
  ).replace('  clusters:\n\n', '  clusters: []\n');
}

/**
 * examples/hbone/client.yaml and server.yaml as they are, with the certificates of `certDir`
 * (made by the example's make-certs.sh) and every port_value remapped through `ports` (the
 * example's port -> this run's), as apps/proxy/test/hbone.test.ts runs them.
 * @param {{certDir: string, ports: Map<number, number>}} o
 */
export function hboneConfigs({ certDir, ports }) {
  const read = (/** @type {string} */ name) =>
    readFileSync(new URL(`../../examples/hbone/${name}`, import.meta.url), 'utf8')
      .replaceAll('examples/hbone/certs/', `${certDir}/`)
      .replace(/port_value:(\s*)(\d+)/g, (whole, space, port) => {
        const to = ports.get(Number(port));
        if (to === undefined) throw new Error(`examples/hbone/${name}: no port for ${port}`);
        return `port_value:${space}${to}`;
      });
  return { client: read('client.yaml'), server: read('server.yaml') };
}

/**
 * A config with every `transport_socket:` block taken out (the HBONE pair in plaintext: the same
 * listeners, hops and HTTP/2 CONNECT, without TLS). Line-based: a block is its key's line and the
 * lines indented deeper; a list item that starts with the key keeps its dash for the next key.
 */
export function withoutTransportSockets(/** @type {string} */ text) {
  /** @type {string[]} */
  const out = [];
  /** @type {number | undefined} */
  let skipDeeperThan;
  let keepDash = false;
  for (const line of text.split('\n')) {
    const indent = line.length - line.trimStart().length;
    if (skipDeeperThan !== undefined && (line.trim() === '' || indent > skipDeeperThan)) continue;
    skipDeeperThan = undefined;
    const item = line.trimStart().startsWith('- transport_socket:');
    if (item || line.trimStart().startsWith('transport_socket:')) {
      skipDeeperThan = item ? indent + 2 : indent;
      keepDash = item;
      continue;
    }
    out.push(keepDash ? `${' '.repeat(indent - 2)}- ${line.trimStart()}` : line);
    keepDash = false;
  }
  return out.join('\n');
}
