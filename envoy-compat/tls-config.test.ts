/**
 * Envoy's own TLS example configs (envoy-compat/tls-configs, copied unmodified; see SOURCE.md)
 * load with no issues, mean what they mean to Envoy, validate through the il-proxy binary, and
 * the ones that can run without Envoy's sandbox services serve TLS as Envoy does.
 */
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfigFile } from '@il/config';
import type { Bootstrap, Cluster, DownstreamTlsContext, FilterChain, LoadedConfig, UpstreamTlsContext } from '@il/config';
import { MAIN, requireBuild, runIlProxy, writeConfig } from '../apps/proxy/test/il-proxy-process.js';
import { makePki } from '../test-support/pki.js';
import { freePort } from '../test-support/ports.js';
import { waitUntil, within } from '../test-support/wait.js';

const run = promisify(execFile);
const CONFIGS = fileURLToPath(new URL('./tls-configs/', import.meta.url));

/** The corpus, as SOURCE.md lists it. */
const FILES = [
  'double-proxy-envoy-backend.yaml',
  'double-proxy-envoy-frontend.yaml',
  'envoyproxy_io_proxy.yaml',
  'tls-envoy-http-https.yaml',
  'tls-envoy-https-http.yaml',
  'tls-inspector-envoy.yaml',
  'tls-sni-envoy-client.yaml',
  'tls-sni-envoy.yaml',
];

const UPSTREAM_TLS = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext';
const DOWNSTREAM_TLS = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext';
const TLS_INSPECTOR = 'type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector';

/**
 * A working directory holding `certs/` as Envoy's sandboxes provide it (the configs name their
 * certificates relative to it), made with a throwaway CA.
 */
interface Workdir {
  readonly dir: string;
  readonly cert: (name: string) => string;
}

let workdir: Workdir;
let pkiDir: string;

beforeAll(() => {
  const pki = makePki('il tls-configs CA');
  pkiDir = pki.dir;
  const dir = mkdtempSync(join(tmpdir(), 'il-tls-configs-'));
  const certs = join(dir, 'certs');
  mkdirSync(certs);
  const put = (from: string, to: string): void => copyFileSync(from, join(certs, to));
  // tls-sni: one certificate per domain (the sandbox makes self-signed ones; SNI does not check the issuer).
  for (const domain of ['domain1', 'domain2']) {
    const leaf = pki.leaf(`${domain}.example.com`, { dns: [`${domain}.example.com`] });
    put(leaf.cert, `${domain}.crt.pem`);
    put(leaf.key, `${domain}.key.pem`);
  }
  // double-proxy: a CA and one identity per side, with the DNS SANs each side requires of the other.
  put(pki.ca, 'cacert.pem');
  const backend = pki.leaf('proxy-postgres-backend.example.com', { dns: ['proxy-postgres-backend.example.com'] });
  put(backend.cert, 'servercert.pem');
  put(backend.key, 'serverkey.pem');
  const frontend = pki.leaf('proxy-postgres-frontend.example.com', { dns: ['proxy-postgres-frontend.example.com'] });
  put(frontend.cert, 'clientcert.pem');
  put(frontend.key, 'clientkey.pem');
  // Signed by the same CA, but not the identity the backend asks for.
  const stranger = pki.leaf('someone-else.example.com', { dns: ['someone-else.example.com'] });
  put(stranger.cert, 'stranger.pem');
  put(stranger.key, 'stranger.key');
  workdir = { dir, cert: (name) => join(certs, name) };
});

afterAll(() => {
  rmSync(workdir.dir, { recursive: true, force: true });
  rmSync(pkiDir, { recursive: true, force: true });
});

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/**
 * Loads a config of the corpus from `cwd` (relative certificate paths resolve against the working
 * directory, in il as in Envoy). Synchronous, so no other test runs while the directory is changed.
 */
function loadIn(cwd: string, file: string): LoadedConfig {
  const previous = process.cwd();
  process.chdir(cwd);
  try {
    return loadConfigFile(join(CONFIGS, file));
  } finally {
    process.chdir(previous);
  }
}

function load(file: string): LoadedConfig {
  try {
    return loadIn(workdir.dir, file);
  } catch (error) {
    if (error instanceof ConfigError) throw new Error(`${file} was refused:\n${error.message}`);
    throw error;
  }
}

function cluster(b: Bootstrap, name: string): Cluster {
  const found = b.static_resources.clusters.find((c) => c.name === name);
  if (!found) throw new Error(`no cluster ${name}`);
  return found;
}

function upstreamTls(b: Bootstrap, name: string): UpstreamTlsContext {
  const config = cluster(b, name).transport_socket?.typed_config;
  if (config?.['@type'] !== UPSTREAM_TLS) throw new Error(`cluster ${name} has no UpstreamTlsContext`);
  return config;
}

function downstreamTls(chain: FilterChain | undefined): DownstreamTlsContext {
  const config = chain?.transport_socket?.typed_config;
  if (config?.['@type'] !== DOWNSTREAM_TLS) throw new Error('the filter chain has no DownstreamTlsContext');
  return config;
}

function chains(b: Bootstrap, listener = 0): FilterChain[] {
  const found = b.static_resources.listeners[listener];
  if (!found) throw new Error(`no listener ${listener}`);
  return found.filter_chains;
}

/** The cluster a filter chain's only network filter (TcpProxy or HCM with one route) sends to. */
function destination(chain: FilterChain | undefined): string | undefined {
  const config = chain?.filters[0]?.typed_config;
  if (config === undefined) return undefined;
  if ('cluster' in config && typeof config.cluster === 'string') return config.cluster;
  if ('route_config' in config) return config.route_config?.virtual_hosts[0]?.routes[0]?.route?.cluster;
  return undefined;
}

function endpoints(c: Cluster): string[] {
  return (c.load_assignment?.endpoints ?? []).flatMap((l) => l.lb_endpoints.map((e) => `${e.endpoint?.address.socket_address?.address}:${e.endpoint?.address.socket_address?.port_value}`));
}

describe('the TLS corpus', () => {
  it('holds the files SOURCE.md lists', () => {
    expect(readdirSync(CONFIGS).filter((f) => f.endsWith('.yaml')).sort()).toEqual(FILES);
  });

  it.each(FILES)('%s loads with no issues', (file) => {
    const { bootstrap } = load(file);
    expect(bootstrap.static_resources.listeners.length).toBeGreaterThan(0);
  });
});

describe('what they mean', () => {
  it('envoyproxy_io_proxy.yaml: www.envoyproxy.io:443 over TLS with SNI www.envoyproxy.io and no check of its certificate', () => {
    const { bootstrap, warnings } = load('envoyproxy_io_proxy.yaml');
    const c = cluster(bootstrap, 'service_envoyproxy_io');
    expect(c).toMatchObject({ type: 'LOGICAL_DNS', dns_lookup_family: 'V4_ONLY', lb_policy: 'ROUND_ROBIN' });
    expect(c.connect_timeout.ms).toBe(30_000);
    expect(endpoints(c)).toEqual(['www.envoyproxy.io:443']);
    const context = upstreamTls(bootstrap, 'service_envoyproxy_io');
    expect(context.sni).toBe('www.envoyproxy.io');
    // No validation context: Envoy accepts whatever certificate the server presents.
    expect(context.common_tls_context.validation_context).toBeUndefined();
    expect(context.common_tls_context.tls_certificates).toEqual([]);
    expect(context.common_tls_context.alpn_protocols).toEqual([]);
    const hcm = chains(bootstrap)[0]?.filters[0]?.typed_config;
    if (!hcm || !('route_config' in hcm)) throw new Error('expected an HTTP connection manager');
    expect(hcm.route_config?.virtual_hosts[0]?.routes[0]?.route).toMatchObject({ cluster: 'service_envoyproxy_io', host_rewrite_literal: 'www.envoyproxy.io' });
    // The listener itself is plain HTTP.
    expect(chains(bootstrap)[0]?.transport_socket).toBeUndefined();
    expect(warnings.map((w) => w.path)).toEqual(['admin.access_log_path', 'static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters[0].typed_config']);
  });

  it('tls-envoy-https-http.yaml: TLS on 10000 with the inline CN=front-envoy certificate, plain HTTP behind', () => {
    const { bootstrap, warnings } = load('tls-envoy-https-http.yaml');
    const context = downstreamTls(chains(bootstrap)[0]);
    expect(context.require_client_certificate).toBe(false);
    expect(context.common_tls_context.tls_certificates).toHaveLength(1);
    const chain = context.common_tls_context.tls_certificates[0]?.certificate_chain?.inline_string;
    if (chain === undefined) throw new Error('expected an inline certificate');
    const certificate = new X509Certificate(chain);
    expect(certificate.subject).toBe('CN=front-envoy');
    expect(new Date(certificate.validTo).getUTCFullYear()).toBe(2030);
    expect(context.common_tls_context.tls_certificates[0]?.private_key?.inline_string).toContain('-----BEGIN PRIVATE KEY-----');
    const c = cluster(bootstrap, 'service-http');
    expect(c.transport_socket).toBeUndefined();
    expect(endpoints(c)).toEqual(['service-http:80']);
    // No connect_timeout in the file: Envoy's default of 5 s.
    expect(c.connect_timeout.ms).toBe(5000);
    expect(warnings).toEqual([]);
  });

  it('tls-envoy-http-https.yaml: plain HTTP in, TLS 1.3 only to service-https:443, without a warning', () => {
    const { bootstrap, warnings } = load('tls-envoy-http-https.yaml');
    expect(chains(bootstrap)[0]?.transport_socket).toBeUndefined();
    const context = upstreamTls(bootstrap, 'service-https');
    expect(context.common_tls_context.tls_params).toMatchObject({ tls_minimum_protocol_version: 'TLSv1_3', tls_maximum_protocol_version: 'TLSv1_3' });
    expect(context.sni).toBe('');
    expect(endpoints(cluster(bootstrap, 'service-https'))).toEqual(['service-https:443']);
    // The maximum is given, so il's "minimum 1.3 above the default maximum 1.2" advice does not apply.
    expect(warnings).toEqual([]);
  });

  it('tls-sni-envoy.yaml: tls_inspector, then a chain per server name; domain3 passes through unterminated', () => {
    const { bootstrap, warnings } = load('tls-sni-envoy.yaml');
    const listener = bootstrap.static_resources.listeners[0];
    expect(listener?.listener_filters.map((f) => f.typed_config['@type'])).toEqual([TLS_INSPECTOR]);
    const all = chains(bootstrap);
    expect(all.map((c) => c.filter_chain_match.server_names)).toEqual([['domain1.example.com'], ['domain2.example.com'], ['domain3.example.com']]);
    expect(all.map(destination)).toEqual(['proxy-domain1', 'proxy-domain2', 'proxy-domain3']);
    for (const [i, domain] of ['domain1', 'domain2'].entries()) {
      const certificate = downstreamTls(all[i]).common_tls_context.tls_certificates[0];
      expect(certificate?.certificate_chain?.filename).toBe(`certs/${domain}.crt.pem`);
      expect(certificate?.private_key?.filename).toBe(`certs/${domain}.key.pem`);
    }
    expect(all[2]?.transport_socket).toBeUndefined();
    expect(all[2]?.filters[0]?.typed_config['@type']).toBe('type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy');
    expect(endpoints(cluster(bootstrap, 'proxy-domain3'))).toEqual(['service-https:443']);
    expect(warnings).toEqual([]);
  });

  it('tls-sni-envoy.yaml: without certs/ in the working directory it is refused for the missing files, as Envoy refuses it at startup', () => {
    const empty = mkdtempSync(join(tmpdir(), 'il-tls-no-certs-'));
    cleanups.push(() => rmSync(empty, { recursive: true, force: true }));
    let refused: unknown;
    try {
      loadIn(empty, 'tls-sni-envoy.yaml');
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(ConfigError);
    const at = (i: number): string => `static_resources.listeners[0].filter_chains[${i}].transport_socket.typed_config.common_tls_context.tls_certificates[0].certificate_chain`;
    expect((refused as ConfigError).issues).toEqual([
      expect.objectContaining({ path: at(0), message: 'Failed to load certificate chain from certs/domain1.crt.pem: cannot read certs/domain1.crt.pem: ENOENT', line: 43 }),
      expect.objectContaining({ path: at(1), message: 'Failed to load certificate chain from certs/domain2.crt.pem: cannot read certs/domain2.crt.pem: ENOENT', line: 78 }),
    ]);
  });

  it('tls-sni-envoy-client.yaml: one TLS cluster per name to proxy:10000, each with its own SNI; domain3 TLS 1.3 only', () => {
    const { bootstrap, warnings } = load('tls-sni-envoy-client.yaml');
    const names = ['proxy-client-domain1', 'proxy-client-domain2', 'proxy-client-domain3'];
    expect(names.map((n) => upstreamTls(bootstrap, n).sni)).toEqual(['domain1.example.com', 'domain2.example.com', 'domain3.example.com']);
    expect(names.map((n) => endpoints(cluster(bootstrap, n)))).toEqual([['proxy:10000'], ['proxy:10000'], ['proxy:10000']]);
    expect(upstreamTls(bootstrap, 'proxy-client-domain1').common_tls_context.tls_params).toBeUndefined();
    expect(upstreamTls(bootstrap, 'proxy-client-domain3').common_tls_context.tls_params).toMatchObject({ tls_minimum_protocol_version: 'TLSv1_3', tls_maximum_protocol_version: 'TLSv1_3' });
    const hcm = chains(bootstrap)[0]?.filters[0]?.typed_config;
    if (!hcm || !('route_config' in hcm)) throw new Error('expected an HTTP connection manager');
    expect(hcm.route_config?.virtual_hosts[0]?.routes.map((r) => [r.match.prefix, r.route?.cluster])).toEqual([
      ['/domain1', 'proxy-client-domain1'],
      ['/domain2', 'proxy-client-domain2'],
      ['/domain3', 'proxy-client-domain3'],
    ]);
    expect(warnings).toEqual([]);
  });

  it('tls-inspector-envoy.yaml: TLS with ALPN h2, TLS with ALPN http/1.1 and anything else go to three clusters, nothing terminated', () => {
    const { bootstrap, warnings } = load('tls-inspector-envoy.yaml');
    expect(bootstrap.static_resources.listeners[0]?.listener_filters.map((f) => f.typed_config['@type'])).toEqual([TLS_INSPECTOR]);
    const all = chains(bootstrap);
    expect(all.map((c) => [c.filter_chain_match.transport_protocol, c.filter_chain_match.application_protocols, destination(c)])).toEqual([
      ['tls', ['h2'], 'service-https1'],
      ['tls', ['http/1.1'], 'service-https0'],
      ['', [], 'service-http'],
    ]);
    expect(all.map((c) => c.transport_socket)).toEqual([undefined, undefined, undefined]);
    expect(warnings).toEqual([]);
  });

  it('double-proxy-envoy-frontend.yaml: postgres over mutual TLS, the server must be proxy-postgres-backend.example.com', () => {
    const { bootstrap, warnings } = load('double-proxy-envoy-frontend.yaml');
    const context = upstreamTls(bootstrap, 'postgres_cluster');
    const common = context.common_tls_context;
    expect(common.tls_certificates.map((c) => [c.certificate_chain?.filename, c.private_key?.filename])).toEqual([['certs/clientcert.pem', 'certs/clientkey.pem']]);
    expect(common.validation_context?.trusted_ca?.filename).toBe('certs/cacert.pem');
    expect(common.validation_context?.match_typed_subject_alt_names).toEqual([{ san_type: 'DNS', matcher: expect.objectContaining({ exact: 'proxy-postgres-backend.example.com' }) as unknown }]);
    // No sni: Envoy sends no server name (the SAN check does not need one).
    expect(context.sni).toBe('');
    expect(endpoints(cluster(bootstrap, 'postgres_cluster'))).toEqual(['proxy-postgres-backend.example.com:5432']);
    expect(chains(bootstrap)[0]?.transport_socket).toBeUndefined();
    expect(warnings).toEqual([]);
  });

  it('double-proxy-envoy-backend.yaml: mutual TLS on 5432, only proxy-postgres-frontend.example.com may connect', () => {
    const { bootstrap, warnings } = load('double-proxy-envoy-backend.yaml');
    expect(bootstrap.static_resources.listeners[0]?.listener_filters.map((f) => f.typed_config['@type'])).toEqual([TLS_INSPECTOR]);
    const context = downstreamTls(chains(bootstrap)[0]);
    expect(context.require_client_certificate).toBe(true);
    const common = context.common_tls_context;
    expect(common.tls_certificates.map((c) => [c.certificate_chain?.filename, c.private_key?.filename])).toEqual([['certs/servercert.pem', 'certs/serverkey.pem']]);
    expect(common.validation_context?.trusted_ca?.filename).toBe('certs/cacert.pem');
    expect(common.validation_context?.match_typed_subject_alt_names).toEqual([{ san_type: 'DNS', matcher: expect.objectContaining({ exact: 'proxy-postgres-frontend.example.com' }) as unknown }]);
    expect(destination(chains(bootstrap)[0])).toBe('postgres_cluster');
    expect(endpoints(cluster(bootstrap, 'postgres_cluster'))).toEqual(['postgres:5432']);
    expect(warnings).toEqual([]);
  });
});

describe('il-proxy --mode validate on every TLS config', () => {
  requireBuild();
  for (const file of FILES) {
    it(`${file} validates`, async () => {
      const path = join(CONFIGS, file);
      const { stdout } = await run(process.execPath, [MAIN, '--mode', 'validate', '-c', path], { cwd: workdir.dir });
      expect(stdout).toContain(`configuration '${path}' OK`);
    });
  }

  it('double-proxy-envoy-backend.yaml does not validate where certs/ is missing: exit 1, naming the files', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'il-tls-no-certs-'));
    cleanups.push(() => rmSync(empty, { recursive: true, force: true }));
    const path = join(CONFIGS, 'double-proxy-envoy-backend.yaml');
    const failed = await run(process.execPath, [MAIN, '--mode', 'validate', '-c', path], { cwd: empty }).then(
      () => undefined,
      (error: unknown) => error as { code?: number; stderr?: string },
    );
    expect(failed?.code).toBe(1);
    expect(failed?.stderr).toContain('Failed to load certificate chain from certs/servercert.pem: cannot read certs/servercert.pem: ENOENT');
    expect(failed?.stderr).toContain('Failed to load trusted CA certificates from certs/cacert.pem: cannot read certs/cacert.pem: ENOENT');
  });
});

interface Handshake {
  /** The server's certificate, when the handshake completed. */
  readonly certificate?: { readonly subject: string; readonly fingerprint256: string };
  readonly error?: string;
}

/** A TLS handshake with 127.0.0.1:`port`; resolves with the server's certificate or why there was none. */
function handshake(port: number, options: tls.ConnectionOptions = {}): Promise<Handshake> {
  return within(
    new Promise<Handshake>((resolve) => {
      const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...options });
      let error: string | undefined;
      socket.once('secureConnect', () => {
        const peer = socket.getPeerCertificate();
        resolve({ certificate: { subject: `CN=${String(peer.subject.CN)}`, fingerprint256: peer.fingerprint256 } });
        socket.destroy();
      });
      socket.once('error', (e: NodeJS.ErrnoException) => (error = e.code ?? e.message));
      socket.once('close', () => resolve({ error: error ?? 'closed before the handshake' }));
    }),
    10_000,
    'a TLS handshake',
  );
}

/** A mutual-TLS connection that runs until the server closes it. */
function connectUntilClosed(port: number, options: tls.ConnectionOptions): Promise<void> {
  return within(
    new Promise<void>((resolve) => {
      const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...options });
      socket.on('error', () => undefined);
      socket.resume();
      socket.once('close', () => resolve());
    }),
    10_000,
    'the server to close the connection',
  );
}

/** il-proxy serving one config of the corpus (ports remapped) from the certificates' working directory. */
async function serveTls(file: string, extraArgs: readonly string[] = []): Promise<Map<number, number>> {
  const config = await writeConfig(readFileSync(join(CONFIGS, file), 'utf8'));
  const proxy = runIlProxy(['-c', config.path, ...extraArgs], { cwd: workdir.dir });
  cleanups.push(async () => {
    await proxy.stop('SIGKILL');
    config.cleanup();
  });
  await proxy.waitForOutput(/starting main dispatch loop/);
  return config.ports;
}

async function stats(adminPort: number): Promise<string> {
  return (await fetch(`http://127.0.0.1:${adminPort}/stats`)).text();
}

const fingerprint = (file: string): string => new X509Certificate(readFileSync(file)).fingerprint256;

describe('il-proxy serving the TLS configs (ports remapped)', () => {
  it('tls-envoy-https-http.yaml: a TLS client on 10000 is served the inline CN=front-envoy certificate', async () => {
    const ports = await serveTls('tls-envoy-https-http.yaml');
    const { bootstrap } = load('tls-envoy-https-http.yaml');
    const inline = downstreamTls(chains(bootstrap)[0]).common_tls_context.tls_certificates[0]?.certificate_chain?.inline_string ?? '';
    const served = await handshake(ports.get(10000) as number);
    expect(served.certificate).toEqual({ subject: 'CN=front-envoy', fingerprint256: new X509Certificate(inline).fingerprint256 });
  });

  it('tls-sni-envoy.yaml: the SNI picks the certificate; a name with no filter chain gets no handshake', async () => {
    const ports = await serveTls('tls-sni-envoy.yaml');
    const port = ports.get(10000) as number;
    const domain1 = await handshake(port, { servername: 'domain1.example.com' });
    expect(domain1.certificate).toEqual({ subject: 'CN=domain1.example.com', fingerprint256: fingerprint(workdir.cert('domain1.crt.pem')) });
    const domain2 = await handshake(port, { servername: 'domain2.example.com' });
    expect(domain2.certificate).toEqual({ subject: 'CN=domain2.example.com', fingerprint256: fingerprint(workdir.cert('domain2.crt.pem')) });
    // No chain matches (and there is no default one): Envoy closes the connection.
    const unknown = await handshake(port, { servername: 'other.example.com' });
    expect(unknown.certificate).toBeUndefined();
    expect(unknown.error).toBeDefined();
  });

  it('tls-inspector-envoy.yaml: ALPN h2, ALPN http/1.1 and plain TCP reach service-https1, service-https0 and service-http', async () => {
    const ports = await serveTls('tls-inspector-envoy.yaml');
    const port = ports.get(10000) as number;
    const admin = ports.get(12345) as number;
    const noneHealthy = async (): Promise<Record<string, number>> => {
      const text = await stats(admin);
      const count = (c: string): number => Number(new RegExp(`^cluster\\.${c}\\.upstream_cx_none_healthy: (\\d+)$`, 'm').exec(text)?.[1] ?? NaN);
      return { 'service-https1': count('service-https1'), 'service-https0': count('service-https0'), 'service-http': count('service-http') };
    };
    // The sandbox's upstreams are not here: each connection ends at its cluster's upstream_cx_none_healthy.
    const expectArrivals = async (expected: Record<string, number>, what: string): Promise<void> => {
      // On a timeout, the expectation below shows what arrived where.
      await waitUntil(async () => JSON.stringify(await noneHealthy()) === JSON.stringify(expected), 10_000, what).catch(() => undefined);
      expect(await noneHealthy()).toEqual(expected);
    };
    await handshake(port, { ALPNProtocols: ['h2'], servername: 'service.example.com' });
    await expectArrivals({ 'service-https1': 1, 'service-https0': 0, 'service-http': 0 }, 'the h2 connection to reach service-https1');
    await handshake(port, { ALPNProtocols: ['http/1.1'], servername: 'service.example.com' });
    await expectArrivals({ 'service-https1': 1, 'service-https0': 1, 'service-http': 0 }, 'the http/1.1 connection to reach service-https0');
    await within(
      new Promise<void>((resolve) => {
        const plain = net.connect(port, '127.0.0.1', () => plain.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
        plain.on('error', () => undefined);
        plain.resume();
        plain.once('close', () => resolve());
      }),
      10_000,
      'the plain TCP connection to close',
    );
    await expectArrivals({ 'service-https1': 1, 'service-https0': 1, 'service-http': 1 }, 'the plain connection to reach service-http');
  });

  it('double-proxy-envoy-backend.yaml: only the frontend identity gets through to postgres_cluster (no certificate and a wrong SAN are refused)', async () => {
    const adminPort = await freePort();
    const ports = await serveTls('double-proxy-envoy-backend.yaml', ['--config-yaml', `admin: {address: {socket_address: {address: 127.0.0.1, port_value: ${adminPort}}}}`]);
    const port = ports.get(5432) as number;
    const ca = readFileSync(workdir.cert('cacert.pem'));
    const identity = (cert: string, key: string): tls.ConnectionOptions => ({ ca, cert: readFileSync(workdir.cert(cert)), key: readFileSync(workdir.cert(key)) });
    await connectUntilClosed(port, { ca });
    await connectUntilClosed(port, identity('stranger.pem', 'stranger.key'));
    await connectUntilClosed(port, identity('clientcert.pem', 'clientkey.pem'));
    const counter = (text: string, name: string): number => Number(new RegExp(`^${name.replace(/\./g, '\\.')}: (\\d+)$`, 'm').exec(text)?.[1] ?? NaN);
    const ssl = (text: string, name: string): number => counter(text, `listener.0.0.0.0_${port}.ssl.${name}`);
    // On a timeout, the expectations below show what happened instead.
    await waitUntil(async () => counter(await stats(adminPort), 'tcp.postgres_tcp.downstream_cx_total') === 1, 10_000, 'the accepted connection to reach the TcpProxy').catch(() => undefined);
    const text = await stats(adminPort);
    expect(ssl(text, 'fail_verify_no_cert')).toBe(1);
    expect(ssl(text, 'fail_verify_san')).toBe(1);
    expect(ssl(text, 'handshake')).toBe(1);
    expect(counter(text, 'tcp.postgres_tcp.downstream_cx_total')).toBe(1);
  });
});
