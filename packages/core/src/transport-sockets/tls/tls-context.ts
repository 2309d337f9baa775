import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import tls, { type SecureContext } from 'node:tls';
import type {
  CertificateValidationContext,
  CommonTlsContext,
  DataSource,
  Secret,
  StringMatcher,
  SubjectAltNameMatcher,
  TlsCertificate,
  TlsProtocol,
} from '@il/config/runtime';
import { compileRe2 } from '@il/config/runtime';

/** Why a peer certificate was refused, as Envoy counts it (ssl.fail_verify_*). */
export type VerifyFailure = 'no_cert' | 'error' | 'san' | 'cert_hash';

export interface PeerVerdict {
  readonly failure: VerifyFailure | undefined;
  /** For the debug log: what was wrong. */
  readonly reason: string | undefined;
}

/** A CommonTlsContext compiled once: Node's SecureContext and the checks il makes itself. */
export interface TlsContext {
  /** What the SecureContext is made from (a tls.Server takes these, not a context). */
  readonly secureOptions: tls.SecureContextOptions;
  readonly secureContext: SecureContext;
  readonly alpn: readonly string[];
  /** A validation context is configured: the peer's certificate is asked for and checked. */
  readonly validates: boolean;
  /** The certificates this side presents (for /certs), with where each chain came from. */
  readonly certificates: readonly X509Certificate[];
  /** Each `tls_certificates` entry's chain (leaf first) and its file, or `<inline>`. */
  readonly certificateChains: readonly { readonly source: string; readonly chain: readonly X509Certificate[] }[];
  /** The trusted CA certificates (for /certs), and where they came from. */
  readonly trustedCa: readonly X509Certificate[];
  readonly trustedCaSource: string | undefined;
  /**
   * Checks a peer's certificate after the handshake: the chain (node's `authorized`), the SANs,
   * the pinned hashes and SPKIs. `authorizationError` is node's reason the chain did not verify.
   */
  verify(peer: X509Certificate | undefined, authorized: boolean, authorizationError: string | undefined, sanOverride?: readonly string[]): PeerVerdict;
}

/** Envoy's defaults: TLS 1.2 minimum; 1.3 maximum for servers, 1.2 for clients (TlsParameters). */
const DEFAULT_MAX: Readonly<Record<'server' | 'client', TlsProtocol>> = { server: 'TLSv1_3', client: 'TLSv1_2' };
/** Envoy's default ECDH curves. */
const DEFAULT_CURVES = 'X25519:P-256';

function nodeVersion(protocol: TlsProtocol): tls.SecureVersion {
  switch (protocol) {
    case 'TLSv1_0':
      return 'TLSv1';
    case 'TLSv1_1':
      return 'TLSv1.1';
    case 'TLSv1_3':
      return 'TLSv1.3';
    default:
      return 'TLSv1.2';
  }
}

export function readData(source: DataSource): string {
  if (source.inline_string !== undefined) return source.inline_string;
  if (source.inline_bytes !== undefined) return Buffer.from(source.inline_bytes, 'base64').toString('utf8');
  if (source.filename !== undefined) return readFileSync(source.filename, 'utf8');
  if (source.environment_variable !== undefined) return process.env[source.environment_variable] ?? '';
  return '';
}

function certificatesOf(pem: string): X509Certificate[] {
  return (pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map((block) => new X509Certificate(block));
}

/** Envoy's BoringSSL cipher list syntax (`[A|B]` groups of equal preference) as an OpenSSL list. */
function opensslCiphers(suites: readonly string[]): string {
  return suites.flatMap((suite) => suite.replace(/^\[|\]$/g, '').split('|')).join(':');
}

/** The SANs of a certificate by type, from node's `subjectAltName` text ("DNS:a, URI:b, IP Address:c"). */
export function subjectAltNames(cert: X509Certificate): { dns: string[]; uri: string[]; ip: string[]; email: string[] } {
  const out = { dns: [] as string[], uri: [] as string[], ip: [] as string[], email: [] as string[] };
  const text = cert.subjectAltName ?? '';
  for (const entry of text.split(/, (?=(?:DNS|URI|IP Address|email|othername|DirName|Registered ID):)/)) {
    const colon = entry.indexOf(':');
    if (colon < 0) continue;
    const kind = entry.slice(0, colon);
    const value = entry.slice(colon + 1);
    if (kind === 'DNS') out.dns.push(value);
    else if (kind === 'URI') out.uri.push(value);
    else if (kind === 'IP Address') out.ip.push(value);
    else if (kind === 'email') out.email.push(value);
  }
  return out;
}

type Match = (value: string) => boolean;

function stringMatch(matcher: StringMatcher): Match {
  const lower = (s: string): string => (matcher.ignore_case ? s.toLowerCase() : s);
  if (matcher.exact !== undefined) {
    const expected = lower(matcher.exact);
    return (v) => lower(v) === expected;
  }
  if (matcher.prefix !== undefined) {
    const prefix = lower(matcher.prefix);
    return (v) => lower(v).startsWith(prefix);
  }
  if (matcher.suffix !== undefined) {
    const suffix = lower(matcher.suffix);
    return (v) => lower(v).endsWith(suffix);
  }
  if (matcher.contains !== undefined) {
    const needle = lower(matcher.contains);
    return (v) => lower(v).includes(needle);
  }
  if (matcher.safe_regex !== undefined) {
    const regex = compileRe2(matcher.safe_regex.regex);
    return (v) => regex.fullMatch(v);
  }
  return () => false;
}

/** A DNS SAN `*.example.com` matches one label, as Envoy's dnsNameMatch (for exact matchers). */
function dnsMatch(matcher: StringMatcher): Match {
  const plain = stringMatch(matcher);
  const exact = matcher.exact?.toLowerCase();
  return (san) => {
    if (plain(san)) return true;
    if (exact === undefined || !san.startsWith('*.')) return false;
    const dot = exact.indexOf('.');
    return dot > 0 && exact.slice(dot) === san.slice(1).toLowerCase();
  };
}

function normalizeIp(ip: string): string {
  if (isIP(ip) !== 6) return ip;
  try {
    return new URL(`http://[${ip}]/`).hostname.replace(/^\[|\]$/g, '');
  } catch {
    return ip;
  }
}

function sanMatcher(matcher: SubjectAltNameMatcher): (cert: X509Certificate) => boolean {
  const type = matcher.san_type;
  if (type === 'DNS') {
    const match = dnsMatch(matcher.matcher);
    return (cert) => subjectAltNames(cert).dns.some(match);
  }
  if (type === 'URI') {
    const match = stringMatch(matcher.matcher);
    return (cert) => subjectAltNames(cert).uri.some(match);
  }
  if (type === 'EMAIL') {
    const match = stringMatch(matcher.matcher);
    return (cert) => subjectAltNames(cert).email.some(match);
  }
  const match = stringMatch(matcher.matcher);
  return (cert) => subjectAltNames(cert).ip.some((ip) => match(normalizeIp(ip)));
}

/** Deprecated match_subject_alt_names: any SAN of any type. */
function anySanMatcher(matcher: StringMatcher): (cert: X509Certificate) => boolean {
  const match = stringMatch(matcher);
  const dns = dnsMatch(matcher);
  return (cert) => {
    const sans = subjectAltNames(cert);
    return sans.dns.some(dns) || sans.uri.some(match) || sans.ip.some(match) || sans.email.some(match);
  };
}

function spkiOf(cert: X509Certificate): string {
  return createHash('sha256').update((cert.publicKey).export({ type: 'spki', format: 'der' })).digest('base64');
}

export interface CompileTlsOptions {
  readonly side: 'server' | 'client';
  readonly secrets: readonly Secret[];
}

/**
 * Compiles a CommonTlsContext (with its SDS names resolved against static secrets) into Node's
 * SecureContext plus the checks il makes after the handshake, with Envoy's defaults.
 */
export function compileTlsContext(common: CommonTlsContext, options: CompileTlsOptions): TlsContext {
  const secret = (name: string): Secret | undefined => options.secrets.find((s) => s.name === name);
  const tlsCertificates: TlsCertificate[] = [...common.tls_certificates];
  for (const sds of common.tls_certificate_sds_secret_configs) {
    const found = secret(sds.name)?.tls_certificate;
    if (found === undefined) throw new Error(`Unknown static secret: ${sds.name}`);
    tlsCertificates.push(found);
  }
  let validation: CertificateValidationContext | undefined = common.validation_context;
  const sdsName = common.validation_context_sds_secret_config?.name ?? common.combined_validation_context?.validation_context_sds_secret_config.name;
  if (sdsName !== undefined) {
    const found = secret(sdsName)?.validation_context;
    if (found === undefined) throw new Error(`Unknown static secret: ${sdsName}`);
    // A combined context's default fields, with the secret's on top (Envoy merges them so).
    validation = common.combined_validation_context === undefined ? found : { ...common.combined_validation_context.default_validation_context, ...definedFields(found) };
  }

  const params = common.tls_params;
  const min = params?.tls_minimum_protocol_version ?? 'TLS_AUTO';
  const max = params?.tls_maximum_protocol_version ?? 'TLS_AUTO';
  const cert = tlsCertificates.map((c) => readData(c.certificate_chain as DataSource));
  const key = tlsCertificates.map((c) => ({ pem: readData(c.private_key as DataSource), ...(c.password === undefined ? {} : { passphrase: readData(c.password) }) }));
  const ca = validation?.trusted_ca === undefined ? undefined : readData(validation.trusted_ca);
  const secureOptions: tls.SecureContextOptions = {
    minVersion: nodeVersion(min === 'TLS_AUTO' ? 'TLSv1_2' : min),
    maxVersion: nodeVersion(max === 'TLS_AUTO' ? DEFAULT_MAX[options.side] : max),
    ecdhCurve: params?.ecdh_curves.length ? params.ecdh_curves.join(':') : DEFAULT_CURVES,
    ...(params?.cipher_suites.length ? { ciphers: opensslCiphers(params.cipher_suites) } : {}),
    ...(params?.signature_algorithms.length ? { sigalgs: params.signature_algorithms.join(':') } : {}),
    ...(cert.length > 0 ? { cert, key } : {}),
    ...(ca === undefined ? {} : { ca }),
  };
  const secureContext = tls.createSecureContext(secureOptions);

  const sanChecks = [
    ...(validation?.match_typed_subject_alt_names ?? []).map(sanMatcher),
    ...(validation?.match_subject_alt_names ?? []).map(anySanMatcher),
  ];
  const hashes = new Set((validation?.verify_certificate_hash ?? []).map((h) => h.replace(/:/g, '').toUpperCase()));
  const spkis = new Set(validation?.verify_certificate_spki ?? []);
  const acceptUntrusted = validation?.trust_chain_verification === 'ACCEPT_UNTRUSTED';
  const allowExpired = validation?.allow_expired_certificate === true;
  const validates = validation !== undefined;

  return {
    secureOptions,
    secureContext,
    alpn: common.alpn_protocols,
    validates,
    certificates: cert.flatMap(certificatesOf),
    certificateChains: tlsCertificates.map((c, i) => ({ source: sourceName(c.certificate_chain), chain: certificatesOf(cert[i] ?? '') })),
    trustedCa: ca === undefined ? [] : certificatesOf(ca),
    trustedCaSource: validation?.trusted_ca === undefined ? undefined : sourceName(validation.trusted_ca),
    verify(peer, authorized, authorizationError, sanOverride) {
      if (!validates && sanOverride === undefined) return { failure: undefined, reason: undefined };
      if (peer === undefined) return { failure: 'no_cert', reason: 'the peer presented no certificate' };
      if (ca !== undefined && !authorized && !acceptUntrusted && !(allowExpired && authorizationError === 'CERT_HAS_EXPIRED')) {
        return { failure: 'error', reason: `certificate verify failed: ${authorizationError ?? 'unknown'}` };
      }
      // An override (auto_san_validation, auto_sni_san_validation) replaces the configured matchers.
      if (sanOverride !== undefined) {
        if (!sanOverride.some((name) => carriesName(peer, name))) {
          return { failure: 'san', reason: `the certificate is not for ${sanOverride.join(', ')} (${peer.subjectAltName ?? 'no subject alt names'})` };
        }
      } else if (sanChecks.length > 0 && !sanChecks.some((check) => check(peer))) {
        return { failure: 'san', reason: `no subject alt name of the certificate matches (${peer.subjectAltName ?? 'none'})` };
      }
      if (hashes.size > 0 || spkis.size > 0) {
        const hashOk = hashes.size > 0 && hashes.has(peer.fingerprint256.replace(/:/g, '').toUpperCase());
        const spkiOk = spkis.size > 0 && spkis.has(spkiOf(peer));
        if (!hashOk && !spkiOk) return { failure: 'cert_hash', reason: 'the certificate matches no pinned hash or SPKI' };
      }
      return { failure: undefined, reason: undefined };
    },
  };
}

/**
 * Whether a certificate carries a name (Envoy's verifySubjectAltName against a list): a DNS SAN
 * that matches it, wildcards included, or an IP or URI SAN equal to it.
 */
function carriesName(cert: X509Certificate, name: string): boolean {
  const sans = subjectAltNames(cert);
  return sans.dns.some(dnsMatch({ exact: name, ignore_case: true })) || sans.ip.some((ip) => normalizeIp(ip) === normalizeIp(name)) || sans.uri.includes(name);
}

/** Where a DataSource's bytes come from, as /certs names it: the file, or `<inline>`. */
function sourceName(source: DataSource | undefined): string {
  return source?.filename ?? '<inline>';
}

function definedFields<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined && !(Array.isArray(v) && v.length === 0))) as Partial<T>;
}
