// TLS transport socket configs il refuses (with the field path and Envoy's words) or warns about,
// checked against real certificates and keys made by the machine's openssl.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { makePki, type Leaf, type Pki } from '../../../test-support/pki.js';
import { issuesOf, load } from './helpers.js';

let pki: Pki;
let server: Leaf;
let other: Leaf;

beforeAll(() => {
  pki = makePki();
  server = pki.leaf('server', { dns: ['server.test'] });
  other = pki.leaf('other', { dns: ['other.test'] });
});

const TLS_PATH = 'static_resources.listeners[0].filter_chains[0].transport_socket.typed_config.common_tls_context';

/** A TcpProxy listener whose chain is TLS with `common` as its CommonTlsContext (flow YAML), and a cluster with `upstream`. */
function config(common: string, upstream = ''): string {
  return `static_resources:
  listeners:
  - name: tls
    address: { socket_address: { address: 127.0.0.1, port_value: 10000 } }
    filter_chains:
    - transport_socket:
        name: envoy.transport_sockets.tls
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
          common_tls_context: ${common}
      filters:
      - name: tcp
        typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy, stat_prefix: s, cluster: c }
  clusters:
  - name: c
${upstream === '' ? '' : `    transport_socket:
      name: envoy.transport_sockets.tls
      typed_config:
        "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
        common_tls_context: ${upstream}
`}    load_assignment: { cluster_name: c, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: 1 } } } }] }] }
`;
}

const certificates = (cert: string, key: string): string => `[{ certificate_chain: { filename: ${cert} }, private_key: { filename: ${key} } }]`;
const pair = (cert: string, key: string): string => `{ tls_certificates: ${certificates(cert, key)} }`;

describe('TLS contexts il refuses, at the field that is wrong', () => {
  it('a private key that does not belong to its certificate (KEY_VALUES_MISMATCH)', () => {
    const issues = issuesOf({ text: config(pair(server.cert, other.key)), name: 'bad.yaml' });
    expect(issues).toMatchObject([
      {
        path: `${TLS_PATH}.tls_certificates[0].private_key`,
        message: `Failed to load private key from ${other.key}, Cause: the key does not match the certificate in ${server.cert} (KEY_VALUES_MISMATCH)`,
      },
    ]);
  });

  it('a certificate file that does not exist, and one that holds no certificate', () => {
    const missing = join(pki.dir, 'nowhere.pem');
    expect(issuesOf({ text: config(pair(missing, server.key)), name: 'bad.yaml' })).toMatchObject([{ path: `${TLS_PATH}.tls_certificates[0].certificate_chain`, message: expect.stringContaining(`Failed to load certificate chain from ${missing}`) as unknown }]);
    const garbage = join(pki.dir, 'garbage.pem');
    writeFileSync(garbage, 'not a certificate\n');
    expect(issuesOf({ text: config(pair(garbage, server.key)), name: 'bad.yaml' })).toMatchObject([{ path: `${TLS_PATH}.tls_certificates[0].certificate_chain`, message: expect.stringContaining(`Failed to load certificate chain from ${garbage}`) as unknown }]);
  });

  it('a minimum TLS version above the maximum', () => {
    const text = config(`{ tls_params: { tls_minimum_protocol_version: TLSv1_3, tls_maximum_protocol_version: TLSv1_2 }, tls_certificates: ${certificates(server.cert, server.key)} }`);
    expect(issuesOf({ text, name: 'bad.yaml' })).toMatchObject([{ path: `${TLS_PATH}.tls_params.tls_minimum_protocol_version`, message: 'tls_minimum_protocol_version TLSv1_3 is above tls_maximum_protocol_version TLSv1_2' }]);
  });

  it('an SDS secret name that is not among static_resources.secrets', () => {
    const text = config(`{ tls_certificate_sds_secret_configs: [{ name: absent }] }`);
    expect(issuesOf({ text, name: 'bad.yaml' })).toMatchObject([{ path: `${TLS_PATH}.tls_certificate_sds_secret_configs[0].name`, message: expect.stringContaining('Unknown static secret: absent') as unknown }]);
  });
});

describe('auto_config needs ALPN', () => {
  const autoCluster = (transport: string): string => `static_resources:
  clusters:
  - name: auto
    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        auto_config: {}
${transport}    load_assignment: { cluster_name: auto, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: 1 } } } }] }] }
`;
  const AUTO_PATH = 'static_resources.clusters[0].typed_extension_protocol_options["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"].auto_config';

  it('refuses a cluster whose transport socket is plaintext, as Envoy does', () => {
    const issues = issuesOf({ text: autoCluster(''), name: 'bad.yaml' });
    expect(issues).toMatchObject([{ message: expect.stringContaining('ALPN configured for cluster auto which has a non-ALPN transport socket') as unknown }]);
    expect(issues[0]?.path).toBe(AUTO_PATH);
  });

  it('loads one with an UpstreamTlsContext, directly or inside internal_upstream', () => {
    const tlsSocket = `    transport_socket:
      name: envoy.transport_sockets.tls
      typed_config: { "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext }
`;
    expect(load(autoCluster(tlsSocket)).warnings).toEqual([]);
    const wrapped = `    transport_socket:
      name: envoy.transport_sockets.internal_upstream
      typed_config:
        "@type": type.googleapis.com/envoy.extensions.transport_sockets.internal_upstream.v3.InternalUpstreamTransport
        transport_socket:
          name: envoy.transport_sockets.tls
          typed_config: { "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext }
`;
    expect(load(autoCluster(wrapped)).warnings).toEqual([]);
  });
});

describe('TLS contexts il loads', () => {
  it('a server certificate and key that match load without warnings', () => {
    expect(load(config(pair(server.cert, server.key))).warnings).toEqual([]);
  });

  it('warns when an upstream context asks for TLS 1.3 at least and leaves the maximum at the client default (TLS 1.2)', () => {
    const loaded = load(config(pair(server.cert, server.key), '{ tls_params: { tls_minimum_protocol_version: TLSv1_3 } }'));
    expect(loaded.warnings).toMatchObject([
      {
        path: 'static_resources.clusters[0].transport_socket.typed_config.common_tls_context.tls_params.tls_maximum_protocol_version',
        message: expect.stringContaining('every handshake fails') as unknown,
      },
    ]);
    expect(load(config(pair(server.cert, server.key), '{ tls_params: { tls_minimum_protocol_version: TLSv1_3, tls_maximum_protocol_version: TLSv1_3 } }')).warnings).toEqual([]);
  });
});
