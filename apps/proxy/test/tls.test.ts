// TLS transport sockets against real peers nobody here wrote: openssl s_client and s_server, curl,
// nghttpx and a python3-h2 CONNECT terminator over Python's ssl module. Each refusal is Envoy's
// outcome (the connection closed), counted under ssl.*, and the process goes on serving.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { echoExchange, echoServer } from '../../../test-support/bulk.js';
import { requirePeer } from '../../../test-support/peers.js';
import { makePki, type Leaf, type Pki } from '../../../test-support/pki.js';
import { freePort, waitForListening } from '../../../test-support/ports.js';
import { waitFor, waitUntil, within } from '../../../test-support/wait.js';
import { adminStat, serve } from './il-proxy-process.js';

const run = promisify(execFile);
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const SPIFFE = 'spiffe://cluster.local/ns/default/sa';
let pki: Pki;
let server: Leaf;
let client: Leaf;
let stranger: Leaf;
let otherPki: Pki;
let foreign: Leaf;
let expired: Leaf;
let echoPort: number;
let closeEcho: () => Promise<void>;

beforeAll(async () => {
  pki = makePki();
  server = pki.leaf('server', { dns: ['localhost', 'proxy.test'], uri: [`${SPIFFE}/server`], ip: ['127.0.0.1'] });
  client = pki.leaf('client', { uri: [`${SPIFFE}/client`] });
  stranger = pki.leaf('stranger', { uri: ['spiffe://elsewhere.example/ns/x/sa/y'] });
  expired = pki.leaf('expired', { uri: [`${SPIFFE}/client`] }, { days: -1 });
  otherPki = makePki('another CA');
  foreign = otherPki.leaf('foreign', { uri: [`${SPIFFE}/client`] });
  const echo = await echoServer();
  echoPort = echo.port;
  closeEcho = echo.close;
});
afterAll(async () => {
  await closeEcho();
});

const downstreamTls = (options: { requireClient?: boolean; alpn?: string[]; san?: string } = {}): string => `
      transport_socket:
        name: envoy.transport_sockets.tls
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
          require_client_certificate: ${options.requireClient === true}
          common_tls_context:
            alpn_protocols: ${JSON.stringify(options.alpn ?? [])}
            tls_certificates: [{ certificate_chain: { filename: ${server.cert} }, private_key: { filename: ${server.key} } }]
            validation_context:
              trusted_ca: { filename: ${pki.ca} }
              match_typed_subject_alt_names: [{ san_type: URI, matcher: { prefix: "${options.san ?? `${SPIFFE}/`}" } }]`;

/** A TLS TcpProxy to the echo server on 10000, and the admin. */
function tlsTcpProxy(options: { requireClient?: boolean } = {}): string {
  return `admin: { address: { socket_address: { address: 127.0.0.1, port_value: 9901 } } }
static_resources:
  listeners:
  - name: tls_in
    address: { socket_address: { address: 127.0.0.1, port_value: 10000 } }
    listener_filters:
    - name: envoy.filters.listener.tls_inspector
      typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector }
    filter_chains:
    - filter_chain_match: { transport_protocol: tls }${downstreamTls(options)}
      filters:
      - name: tcp
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
          stat_prefix: tls_in
          cluster: echo
          access_log:
          - name: out
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog
              log_format: { text_format_source: { inline_string: "tls peer=%DOWNSTREAM_PEER_URI_SAN% local=%DOWNSTREAM_LOCAL_URI_SAN% version=%DOWNSTREAM_TLS_VERSION% cipher=%DOWNSTREAM_TLS_CIPHER% sni=%REQUESTED_SERVER_NAME% subject=%DOWNSTREAM_PEER_SUBJECT%\\n" } }
    - filter_chain_match: { transport_protocol: raw_buffer }
      filters:
      - name: tcp
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
          stat_prefix: plain_in
          cluster: echo
  clusters:
  - name: echo
    load_assignment: { cluster_name: echo, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${echoPort} } } } }] }] }
`;
}

async function start(text: string) {
  const started = await serve(text, [], { ports: new Map([[echoPort, echoPort]]) });
  cleanups.push(started.cleanup);
  const stat = (name: string): Promise<number> => adminStat(started.ports.get(9901) as number, name);
  return { ...started, stat, port: started.ports.get(10000) as number };
}

/**
 * openssl s_client: sends `input` and resolves with everything it printed, once the echo of the
 * input came back (then it is stopped) or once it exited (the proxy closed the connection).
 */
async function sClient(port: number, args: string[], input = 'ping through TLS\n'): Promise<string> {
  const openssl = requirePeer('openssl');
  const child = spawn(openssl, ['s_client', '-connect', `127.0.0.1:${port}`, '-quiet', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  // s_client may be gone (refused) before it reads its input: that EPIPE is the outcome under test, not an error.
  child.stdin.on('error', () => undefined);
  child.stdin.write(input);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let gone = false;
  void exited.then(() => (gone = true));
  await within(
    new Promise<void>((resolve) => {
      const check = (): void => {
        if (gone || output.includes(input.trim())) resolve();
        else setTimeout(check, 10);
      };
      check();
    }),
    20_000,
    'openssl s_client to get the echo or to be disconnected',
  ).finally(() => child.kill('SIGKILL'));
  await exited;
  return output;
}

/** Writes `bytes`, half-closes, and resolves with everything that came back before the close. */
function exchangeRaw(port: number, bytes: Buffer): Promise<Buffer> {
  return within(
    new Promise<Buffer>((resolve) => {
      const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
      const chunks: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.on('error', () => undefined);
      socket.once('close', () => resolve(Buffer.concat(chunks)));
      socket.once('end', () => socket.end());
      socket.end(bytes);
    }),
    20_000,
    'the proxy to end the exchange',
  );
}

/** The first flight of a node TLS client: a ClientHello with SNI, as a peer would send it. */
function clientHello(): Promise<Buffer> {
  return new Promise((resolve) => {
    const sink = net.createServer((socket) => {
      socket.once('data', (chunk: Buffer) => {
        resolve(chunk);
        socket.destroy();
        sink.close();
      });
    });
    sink.listen(0, '127.0.0.1', () => {
      const socket = tls.connect({ port: (sink.address() as net.AddressInfo).port, host: '127.0.0.1', servername: 'proxy.test', rejectUnauthorized: false });
      socket.on('error', () => undefined);
    });
  });
}

describe('downstream TLS (DownstreamTlsContext) with openssl s_client', () => {
  it('mutual TLS with a client certificate of the trusted CA: the echo comes back, SNI and the SPIFFE identities reach the access log, ssl.* counts it', async () => {
    const proxy = await start(tlsTcpProxy({ requireClient: true }));
    const output = await sClient(proxy.port, ['-servername', 'proxy.test', '-CAfile', pki.ca, '-cert', client.cert, '-key', client.key, '-verify_return_error']);
    expect(output).toContain('ping through TLS');
    expect(await proxy.stat('listener.127.0.0.1_' + String(proxy.port) + '.ssl.handshake')).toBe(1);
    expect(await proxy.stat(`listener.127.0.0.1_${proxy.port}.ssl.versions.TLSv1.3`)).toBe(1);
    expect(await proxy.stat('tls_inspector.tls_found')).toBe(1);
    expect(await proxy.stat('tls_inspector.sni_found')).toBe(1);
    await waitFor(() => proxy.proxy.stdout().includes('tls peer='), 10_000, 'the access log line');
    expect(proxy.proxy.stdout()).toMatch(
      new RegExp(`tls peer=${SPIFFE}/client local=${SPIFFE}/server version=TLSv1\\.3 cipher=TLS_\\S+ sni=proxy\\.test subject=O=il tests,CN=client\\n`),
    );
  }, 60_000);

  it('refuses, and counts, a missing client certificate, one from another CA, one with the wrong SAN, and an expired one; serves others throughout', async () => {
    const proxy = await start(tlsTcpProxy({ requireClient: true }));
    const ssl = (name: string): Promise<number> => proxy.stat(`listener.127.0.0.1_${proxy.port}.ssl.${name}`);
    const refused = async (args: string[]): Promise<void> => {
      const output = await sClient(proxy.port, ['-CAfile', pki.ca, ...args]);
      expect(output).not.toContain('ping through TLS');
    };
    await refused([]);
    expect(await ssl('fail_verify_no_cert')).toBe(1);
    await refused(['-cert', foreign.cert, '-key', foreign.key]);
    expect(await ssl('fail_verify_error')).toBe(1);
    await refused(['-cert', stranger.cert, '-key', stranger.key]);
    expect(await ssl('fail_verify_san')).toBe(1);
    await refused(['-cert', expired.cert, '-key', expired.key]);
    expect(await ssl('fail_verify_error')).toBe(2);
    expect(await ssl('connection_error')).toBe(4);
    expect(await ssl('handshake')).toBe(0);
    // The good client still gets through.
    const ok = await sClient(proxy.port, ['-CAfile', pki.ca, '-cert', client.cert, '-key', client.key]);
    expect(ok).toContain('ping through TLS');
  }, 90_000);

  it("a client's close_notify is a half-close: everything it sent before still comes back (4 MiB, sha256), then the proxy ends too", async () => {
    const proxy = await start(tlsTcpProxy({ requireClient: true }));
    const payload = randomBytes(4 * 1024 * 1024);
    const echoed = await within(
      new Promise<Buffer>((resolve, reject) => {
        const socket = tls.connect({ port: proxy.port, host: '127.0.0.1', servername: 'proxy.test', ca: readFileSync(pki.ca), cert: readFileSync(client.cert), key: readFileSync(client.key) });
        const chunks: Buffer[] = [];
        socket.on('data', (chunk: Buffer) => chunks.push(chunk));
        socket.once('end', () => {
          socket.destroy();
          resolve(Buffer.concat(chunks));
        });
        socket.once('error', reject);
        socket.once('secureConnect', () => socket.end(payload));
      }),
      30_000,
      'the echo and the end of the TLS connection',
    );
    expect(echoed.length).toBe(payload.length);
    expect(createHash('sha256').update(echoed).digest('hex')).toBe(createHash('sha256').update(payload).digest('hex'));
  }, 60_000);

  it('plaintext, garbage and a truncated ClientHello: the inspector sends plaintext to the raw_buffer chain, the TLS chain counts the broken handshakes, nothing hangs', async () => {
    const proxy = await start(tlsTcpProxy());
    // Plaintext: tls_inspector finds no TLS, the raw_buffer chain echoes it.
    const plain = await echoExchange(proxy.port, 1024);
    expect(plain.receivedSha256).toBe(plain.sentSha256);
    expect(await proxy.stat('tls_inspector.tls_not_found')).toBe(1);
    // A TLS record header and garbage is not a ClientHello: the raw_buffer chain echoes it.
    const garbage = Buffer.from([22, 3, 1, 0, 40, ...Buffer.alloc(40, 0xee)]);
    expect((await exchangeRaw(proxy.port, garbage)).equals(garbage)).toBe(true);
    // A real ClientHello, then nothing: the TLS chain's handshake fails when the client goes away.
    const hello = await clientHello();
    expect(hello[0]).toBe(22);
    // Whatever the server answered before the client left, it was not the echo of the plain chain.
    expect((await exchangeRaw(proxy.port, hello)).equals(hello)).toBe(false);
    // A client that offers only TLS 1.0, below Envoy's (and il's) minimum of 1.2.
    const old = await sClient(proxy.port, ['-tls1', '-CAfile', pki.ca]);
    expect(old).not.toContain('ping through TLS');
    await waitUntil(async () => (await proxy.stat(`listener.127.0.0.1_${proxy.port}.ssl.connection_error`)) >= 3, 10_000, 'the broken handshakes counted');
    expect(await proxy.stat(`listener.127.0.0.1_${proxy.port}.ssl.handshake`)).toBe(0);
    const again = await echoExchange(proxy.port, 1024);
    expect(again.receivedSha256).toBe(again.sentSha256);
  }, 60_000);
});

describe('HTTP over TLS: the HCM with ALPN (codec_type AUTO)', () => {
  const https = (): string => `admin: { address: { socket_address: { address: 127.0.0.1, port_value: 9901 } } }
static_resources:
  listeners:
  - name: https
    address: { socket_address: { address: 127.0.0.1, port_value: 10000 } }
    filter_chains:
    - ${downstreamTls({ alpn: ['h2', 'http/1.1'] }).trimStart()}
      filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: https
          route_config:
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
              - match: { prefix: /, headers: [{ name: x-forwarded-proto, string_match: { exact: https } }] }
                direct_response: { status: 200, body: { inline_string: "secure hello\\n" } }
          http_filters: [{ name: envoy.filters.http.router, typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router } }]
`;

  it('curl --cacert over HTTP/2 and HTTP/1.1 (chosen by ALPN), and with a client certificate; x-forwarded-proto is https', async () => {
    const proxy = await start(https());
    const curl = requirePeer('curl');
    const url = `https://localhost:${proxy.port}/`;
    const h2 = await run(curl, ['-sS', '--max-time', '10', '--cacert', pki.ca, '-w', ' %{http_version}', url]);
    expect(h2.stdout).toBe('secure hello\n 2');
    const h1 = await run(curl, ['-sS', '--max-time', '10', '--http1.1', '--cacert', pki.ca, '-w', ' %{http_version}', url]);
    expect(h1.stdout).toBe('secure hello\n 1.1');
    const mtls = await run(curl, ['-sS', '--max-time', '10', '--cacert', pki.ca, '--cert', client.cert, '--key', client.key, url]);
    expect(mtls.stdout).toBe('secure hello\n');
    expect(await proxy.stat('http.https.downstream_cx_http2_total')).toBe(2);
    expect(await proxy.stat('http.https.downstream_cx_http1_total')).toBe(1);
    expect(await proxy.stat(`listener.127.0.0.1_${proxy.port}.ssl.no_certificate`)).toBe(2);
  }, 60_000);
});

describe("the client's identity reaches routing and the upstream (x-forwarded-client-cert)", () => {
  it('SANITIZE_SET with uri: routes match on the client SPIFFE URI, the backend receives XFCC with By, Hash and URI, and a forged XFCC is replaced', async () => {
    const http = await import('node:http');
    const seen: Array<string | undefined> = [];
    const backend = http.createServer((req, res) => {
      const value = req.headers['x-forwarded-client-cert'];
      seen.push(Array.isArray(value) ? value.join(',') : value);
      res.end('from the backend');
    });
    await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => backend.close(() => resolve())));
    const backendPort = (backend.address() as net.AddressInfo).port;
    const proxy = await serve(
      `admin: { address: { socket_address: { address: 127.0.0.1, port_value: 9901 } } }
static_resources:
  listeners:
  - name: https
    address: { socket_address: { address: 127.0.0.1, port_value: 10000 } }
    filter_chains:
    - ${downstreamTls({ requireClient: true, alpn: ['h2', 'http/1.1'] }).trimStart()}
      filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: https
          forward_client_cert_details: SANITIZE_SET
          set_current_client_cert_details: { uri: true }
          route_config:
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
              - match: { prefix: /, headers: [{ name: x-forwarded-client-cert, string_match: { contains: "URI=${SPIFFE}/client" } }] }
                route: { cluster: backend }
              - match: { prefix: / }
                direct_response: { status: 403, body: { inline_string: "not for you\\n" } }
          http_filters: [{ name: envoy.filters.http.router, typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router } }]
  clusters:
  - name: backend
    load_assignment: { cluster_name: backend, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${backendPort} } } } }] }] }
`,
      [],
      { ports: new Map([[backendPort, backendPort]]) },
    );
    cleanups.push(proxy.cleanup);
    const url = `https://localhost:${proxy.ports.get(10000) as number}/`;
    const curl = requirePeer('curl');
    const args = ['-sS', '--max-time', '10', '--cacert', pki.ca, '--cert', client.cert, '--key', client.key, '-H', 'x-forwarded-client-cert: URI=forged', url];
    expect((await run(curl, args)).stdout).toBe('from the backend');
    const hash = (await import('node:crypto')).createHash('sha256').update(new (await import('node:crypto')).X509Certificate(readFileSync(client.cert)).raw).digest('hex');
    expect(seen).toEqual([`By=${SPIFFE}/server;Hash=${hash};URI=${SPIFFE}/client`]);
    // Another workload of the mesh passes the TLS checks but not the route's identity match.
    const neighbour = pki.leaf('neighbour', { uri: [`${SPIFFE}/neighbour`] });
    const other = await run(curl, ['-sS', '--max-time', '10', '--cacert', pki.ca, '--cert', neighbour.cert, '--key', neighbour.key, url]);
    expect(other.stdout).toBe('not for you\n');
    expect(seen).toHaveLength(1);
  }, 60_000);
});

/** A TcpProxy on 10000 to a TLS upstream on `port`, with the given UpstreamTlsContext lines. */
function tcpToTlsUpstream(port: number, upstreamTls: string): string {
  return `admin: { address: { socket_address: { address: 127.0.0.1, port_value: 9901 } } }
static_resources:
  listeners:
  - name: plain
    address: { socket_address: { address: 127.0.0.1, port_value: 10000 } }
    filter_chains:
    - filters:
      - name: tcp
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
          stat_prefix: plain
          cluster: secure
          access_log:
          - name: envoy.access_loggers.stdout
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog
              log_format: { text_format_source: { inline_string: "upstream tls %UPSTREAM_TLS_VERSION% %UPSTREAM_PEER_DNS_SAN% %UPSTREAM_LOCAL_URI_SAN% %DOWNSTREAM_TLS_VERSION%\\n" } }
  clusters:
  - name: secure
    connect_timeout: 5s
    transport_socket:
      name: envoy.transport_sockets.tls
      typed_config:
        "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
${upstreamTls.replace(/^/gm, '        ')}
    load_assignment: { cluster_name: secure, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${port} } } } }] }] }
`;
}

async function sServer(port: number, leaf: Leaf, extra: string[] = []): Promise<ChildProcess> {
  const openssl = requirePeer('openssl');
  const child = spawn(openssl, ['s_server', '-accept', String(port), '-cert', leaf.cert, '-key', leaf.key, '-rev', '-quiet', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  cleanups.push(() => void child.kill('SIGKILL'));
  // s_server is ready once its port accepts.
  await waitForListening(port, 'openssl s_server');
  return child;
}

/** One line through the plain listener; s_server -rev answers it reversed. */
async function roundTrip(port: number, line: string): Promise<string> {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  let received = '';
  socket.on('data', (d: Buffer) => (received += d.toString()));
  const ended = new Promise((resolve) => socket.once('close', resolve));
  socket.write(`${line}\n`);
  await waitFor(() => received.includes('\n') || socket.destroyed, 15_000, 'an answer or a close').catch(() => undefined);
  socket.destroy();
  await ended;
  return received;
}

describe('upstream TLS (UpstreamTlsContext) to openssl s_server', () => {
  it('verifies the server against the trusted CA and a SAN matcher, sends SNI, and carries bytes; ssl stats under the cluster', async () => {
    const port = await freePort();
    // A ClientHello without SNI proxy.test gets a fatal alert: the round trip proves the SNI.
    await sServer(port, server, ['-servername', 'proxy.test', '-servername_fatal', '-cert2', server.cert, '-key2', server.key]);
    const proxy = await serve(
      tcpToTlsUpstream(
        port,
        `sni: proxy.test
common_tls_context:
  tls_params: { tls_maximum_protocol_version: TLSv1_3 }
  tls_certificates: [{ certificate_chain: { filename: ${client.cert} }, private_key: { filename: ${client.key} } }]
  validation_context:
    trusted_ca: { filename: ${pki.ca} }
    match_typed_subject_alt_names: [{ san_type: DNS, matcher: { exact: proxy.test } }]`,
      ),
      [],
      { ports: new Map([[port, port]]) },
    );
    cleanups.push(proxy.cleanup);
    expect(await roundTrip(proxy.ports.get(10000) as number, 'hello upstream')).toBe('maertspu olleh\n');
    const stats = await (await fetch(`http://127.0.0.1:${proxy.ports.get(9901) as number}/stats?filter=cluster.secure.ssl`)).text();
    expect(stats).toMatch(/^cluster\.secure\.ssl\.handshake: 1$/m);
    expect(stats).toMatch(/^cluster\.secure\.ssl\.versions\.TLSv1\.3: 1$/m);
    // The access log reads the upstream connection's TLS: version, the server's SANs, our own certificate.
    await waitFor(() => proxy.proxy.stdout().includes('upstream tls'), 10_000, 'the access log line');
    expect(proxy.proxy.stdout()).toContain(`upstream tls TLSv1.3 localhost,proxy.test ${SPIFFE}/client -\n`);
  }, 60_000);

  it('a server whose certificate does not match is refused before any byte goes up (ssl.fail_verify_san, the client is closed)', async () => {
    const port = await freePort();
    await sServer(port, server);
    const proxy = await serve(
      tcpToTlsUpstream(
        port,
        `common_tls_context:
  validation_context:
    trusted_ca: { filename: ${pki.ca} }
    match_typed_subject_alt_names: [{ san_type: DNS, matcher: { exact: someone-else.test } }]`,
      ),
      [],
      { ports: new Map([[port, port]]) },
    );
    cleanups.push(proxy.cleanup);
    expect(await roundTrip(proxy.ports.get(10000) as number, 'secret')).toBe('');
    const stats = await (await fetch(`http://127.0.0.1:${proxy.ports.get(9901) as number}/stats?filter=cluster.secure`)).text();
    expect(stats).toMatch(/^cluster\.secure\.ssl\.fail_verify_san: 1$/m);
    expect(stats).toMatch(/^cluster\.secure\.upstream_cx_connect_fail: 1$/m);
  }, 60_000);

  it('a self-signed server certificate fails verification (ssl.fail_verify_error)', async () => {
    const port = await freePort();
    await sServer(port, foreign);
    const proxy = await serve(tcpToTlsUpstream(port, `common_tls_context:\n  validation_context: { trusted_ca: { filename: ${pki.ca} } }`), [], { ports: new Map([[port, port]]) });
    cleanups.push(proxy.cleanup);
    expect(await roundTrip(proxy.ports.get(10000) as number, 'secret')).toBe('');
    const stats = await (await fetch(`http://127.0.0.1:${proxy.ports.get(9901) as number}/stats?filter=cluster.secure.ssl`)).text();
    expect(stats).toMatch(/^cluster\.secure\.ssl\.fail_verify_error: 1$/m);
  }, 60_000);
});

describe('admin /certs', () => {
  /** What openssl (not node) says of a certificate file: serial in hex, notBefore and notAfter. */
  async function opensslSays(file: string): Promise<{ serial: string; notBefore: Date; notAfter: Date }> {
    const { stdout } = await run(requirePeer('openssl'), ['x509', '-in', file, '-noout', '-serial', '-startdate', '-enddate']);
    const field = (name: string): string => new RegExp(`^${name}=(.+)$`, 'm').exec(stdout)?.[1] ?? '';
    return { serial: field('serial').toLowerCase(), notBefore: new Date(field('notBefore')), notAfter: new Date(field('notAfter')) };
  }
  const rfc3339 = (date: Date): string => date.toISOString().replace(/\.000Z$/, 'Z');

  it("lists each listener and cluster TLS context: the trusted CA and the presented certificate, with Envoy's fields", async () => {
    const listenerText = tlsTcpProxy({ requireClient: true });
    // The same proxy with a TLS cluster too: the upstream context presents the client certificate.
    const text = listenerText.replace(
      / {2}clusters:\n {2}- name: echo\n/,
      `  clusters:
  - name: echo
    transport_socket:
      name: envoy.transport_sockets.tls
      typed_config:
        "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
        common_tls_context:
          tls_certificates: [{ certificate_chain: { inline_string: ${JSON.stringify(readFileSync(client.cert, 'utf8'))} }, private_key: { filename: ${client.key} } }]
`,
    );
    expect(text).not.toBe(listenerText);
    const proxy = await start(text);
    const res = await fetch(`http://127.0.0.1:${proxy.ports.get(9901) as number}/certs`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/json');
    const body = (await res.json()) as { certificates: { ca_cert: Record<string, unknown>[]; cert_chain: Record<string, unknown>[] }[] };
    expect(body.certificates).toHaveLength(2);
    const [listener, cluster] = body.certificates as [(typeof body.certificates)[number], (typeof body.certificates)[number]];

    const ca = await opensslSays(pki.ca);
    expect(listener.ca_cert).toEqual([
      {
        path: pki.ca,
        serial_number: ca.serial,
        subject_alt_names: [],
        days_until_expiration: expect.stringMatching(/^(29|30)$/) as unknown,
        valid_from: rfc3339(ca.notBefore),
        expiration_time: rfc3339(ca.notAfter),
      },
    ]);
    const leaf = await opensslSays(server.cert);
    expect(listener.cert_chain).toEqual([
      {
        path: server.cert,
        serial_number: leaf.serial,
        subject_alt_names: [{ dns: 'localhost' }, { dns: 'proxy.test' }, { uri: `${SPIFFE}/server` }, { ip_address: '127.0.0.1' }],
        // Made to expire 30 days from its creation, a moment ago.
        days_until_expiration: '29',
        valid_from: rfc3339(leaf.notBefore),
        expiration_time: rfc3339(leaf.notAfter),
      },
    ]);
    const clientLeaf = await opensslSays(client.cert);
    expect(cluster.ca_cert).toEqual([]);
    expect(cluster.cert_chain).toMatchObject([{ path: '<inline>', serial_number: clientLeaf.serial, subject_alt_names: [{ uri: `${SPIFFE}/client` }] }]);
  }, 60_000);

  it('an expired certificate shows 0 days until expiration', async () => {
    const text = tcpToTlsUpstream(
      1,
      `common_tls_context:
  tls_certificates: [{ certificate_chain: { filename: ${expired.cert} }, private_key: { filename: ${expired.key} } }]`,
    );
    const proxy = await serve(text, [], { ports: new Map([[1, 1]]) });
    cleanups.push(proxy.cleanup);
    const body = (await (await fetch(`http://127.0.0.1:${proxy.ports.get(9901) as number}/certs`)).json()) as { certificates: { cert_chain: { days_until_expiration: string; expiration_time: string }[] }[] };
    expect(body.certificates[0]?.cert_chain[0]).toMatchObject({ days_until_expiration: '0', expiration_time: '2020-01-02T00:00:00Z' });
  }, 60_000);
});

describe('HTTP/2 over TLS to nghttpx, and HTTP/2 CONNECT over mTLS to a python3-h2 terminator', () => {
  it('an HTTP/2 cluster over TLS (ALPN h2) to nghttpx: requests are proxied end to end', async () => {
    const nghttpx = requirePeer('nghttpx');
    const backendPort = await freePort();
    const backend = (await import('node:http')).createServer((req, res) => res.end(`backend saw ${req.url ?? ''}`));
    await new Promise<void>((resolve) => backend.listen(backendPort, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => backend.close(() => resolve())));
    const frontPort = await freePort();
    const child = spawn(nghttpx, [`--frontend=127.0.0.1,${frontPort}`, `--backend=127.0.0.1,${backendPort}`, '--workers=1', '--no-ocsp', '--log-level=WARN', server.key, server.cert], { stdio: 'ignore' });
    cleanups.push(() => void child.kill('SIGKILL'));
    await waitUntil(
      () =>
        new Promise((resolve) => {
          const probe = tls.connect({ port: frontPort, host: '127.0.0.1', rejectUnauthorized: false, ALPNProtocols: ['h2'] }, () => {
            probe.destroy();
            resolve(true);
          });
          probe.once('error', () => resolve(false));
        }),
      15_000,
      'nghttpx to listen',
    );
    const proxy = await serve(
      `admin: { address: { socket_address: { address: 127.0.0.1, port_value: 9901 } } }
static_resources:
  listeners:
  - name: http
    address: { socket_address: { address: 127.0.0.1, port_value: 10000 } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: http
          access_log:
          - name: envoy.access_loggers.stdout
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog
              log_format: { text_format_source: { inline_string: "%REQ(:PATH)% %UPSTREAM_TLS_VERSION% %UPSTREAM_PEER_URI_SAN%\\n" } }
          route_config: { virtual_hosts: [{ name: all, domains: ["*"], routes: [{ match: { prefix: / }, route: { cluster: nghttpx } }] }] }
          http_filters: [{ name: envoy.filters.http.router, typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router } }]
  clusters:
  - name: nghttpx
    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        explicit_http_config: { http2_protocol_options: {} }
    transport_socket:
      name: envoy.transport_sockets.tls
      typed_config:
        "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
        sni: localhost
        common_tls_context: { validation_context: { trusted_ca: { filename: ${pki.ca} } } }
    load_assignment: { cluster_name: nghttpx, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${frontPort} } } } }] }] }
`,
      [],
      { ports: new Map([[frontPort, frontPort]]) },
    );
    cleanups.push(proxy.cleanup);
    const port = proxy.ports.get(10000) as number;
    for (const path of ['/one', '/two']) {
      const response = await fetch(`http://127.0.0.1:${port}${path}`);
      expect(response.status).toBe(200);
      expect(await response.text()).toBe(`backend saw ${path}`);
    }
    const stats = await (await fetch(`http://127.0.0.1:${proxy.ports.get(9901) as number}/stats?filter=cluster.nghttpx`)).text();
    expect(stats).toMatch(/^cluster\.nghttpx\.ssl\.handshake: 1$/m);
    expect(stats).toMatch(/^cluster\.nghttpx\.upstream_rq_total: 2$/m);
    await waitFor(() => proxy.proxy.stdout().includes('/two '), 10_000, 'the access log lines');
    // TLS 1.2: Envoy's client default maximum (the listener's own leg is plaintext).
    expect(proxy.proxy.stdout()).toContain(`/one TLSv1.2 ${SPIFFE}/server\n/two TLSv1.2 ${SPIFFE}/server\n`);
  }, 60_000);

  it('TcpProxy tunnels in HTTP/2 CONNECT over mutual TLS to python3-h2 (ssl, CERT_REQUIRED): 8 MiB each way sha256-intact, and the terminator sees our SPIFFE identity', async () => {
    const python = requirePeer('python3-h2');
    const terminatorPort = await freePort();
    const script = fileURLToPath(new URL('../../../packages/http-connect/test/fixtures/tunnel-h2-terminator.py', import.meta.url));
    const child = spawn(python, [script, String(terminatorPort), '--tls', server.chain, server.key, pki.ca], { stdio: ['ignore', 'pipe', 'pipe'] });
    cleanups.push(() => void child.kill('SIGKILL'));
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    await waitFor(() => output.includes('listening'), 15_000, 'the terminator to listen');
    const proxy = await serve(
      `admin: { address: { socket_address: { address: 127.0.0.1, port_value: 9901 } } }
static_resources:
  listeners:
  - name: out
    address: { socket_address: { address: 127.0.0.1, port_value: 10000 } }
    filter_chains:
    - filters:
      - name: tcp
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
          stat_prefix: out
          cluster: hbone
          tunneling_config: { hostname: "127.0.0.1:${echoPort}" }
  clusters:
  - name: hbone
    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        explicit_http_config: { http2_protocol_options: { allow_connect: true } }
    transport_socket:
      name: envoy.transport_sockets.tls
      typed_config:
        "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
        common_tls_context:
          tls_params: { tls_minimum_protocol_version: TLSv1_3, tls_maximum_protocol_version: TLSv1_3 }
          alpn_protocols: [h2]
          tls_certificates: [{ certificate_chain: { filename: ${client.cert} }, private_key: { filename: ${client.key} } }]
          validation_context:
            trusted_ca: { filename: ${pki.ca} }
            match_typed_subject_alt_names: [{ san_type: URI, matcher: { exact: "${SPIFFE}/server" } }]
    load_assignment: { cluster_name: hbone, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${terminatorPort} } } } }] }] }
`,
      [],
      { ports: new Map([[terminatorPort, terminatorPort]]) },
    );
    cleanups.push(proxy.cleanup);
    const results = await within(Promise.all([1, 2].map(() => echoExchange(proxy.ports.get(10000) as number, 8 * 1024 * 1024))), 60_000, 'two tunnels');
    for (const r of results) expect(r.receivedSha256).toBe(r.sentSha256);
    expect(output).toContain(`peer ${SPIFFE}/client`);
  }, 90_000);
});
