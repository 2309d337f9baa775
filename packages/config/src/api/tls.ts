/**
 * envoy.extensions.transport_sockets.tls.v3: the TLS transport socket (DownstreamTlsContext on
 * listeners, UpstreamTlsContext on clusters) and its secrets. What is checked here is what Envoy
 * checks when it builds the context: certificates that load, a key that matches its certificate,
 * a trusted CA that is not empty, SDS names that exist (cross-references), consistent versions.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as z from 'zod';
import { dataSource, type DataSource } from './core.js';
import { stringMatcher } from './matcher.js';
import { duration, message, nonEmptyString, oneof, protoEnum, struct, typedMessage, uint32, unsupported } from '../schema/proto.js';
import type { Report } from '../schema/proto.js';

const TLS_PROTOCOLS = { TLS_AUTO: 0, TLSv1_0: 1, TLSv1_1: 2, TLSv1_2: 3, TLSv1_3: 4 } as const;
export type TlsProtocol = keyof typeof TLS_PROTOCOLS;

export const tlsParameters = message(
  'envoy.extensions.transport_sockets.tls.v3.TlsParameters',
  {
    tls_minimum_protocol_version: protoEnum(TLS_PROTOCOLS).default('TLS_AUTO'),
    tls_maximum_protocol_version: protoEnum(TLS_PROTOCOLS).default('TLS_AUTO'),
    cipher_suites: z.array(nonEmptyString()).default([]),
    ecdh_curves: z.array(nonEmptyString()).default([]),
    signature_algorithms: z.array(nonEmptyString()).default([]),
    compliance_policies: unsupported('TLS compliance policies (FIPS_202205) are not implemented').optional(),
  },
  {
    rules: (p, report) => {
      const min = TLS_PROTOCOLS[p.tls_minimum_protocol_version];
      const max = TLS_PROTOCOLS[p.tls_maximum_protocol_version];
      if (min !== 0 && max !== 0 && min > max) {
        report(['tls_minimum_protocol_version'], `tls_minimum_protocol_version ${p.tls_minimum_protocol_version} is above tls_maximum_protocol_version ${p.tls_maximum_protocol_version}`);
      }
    },
  },
);
export type TlsParameters = z.output<typeof tlsParameters>;

export const tlsCertificate = message(
  'envoy.extensions.transport_sockets.tls.v3.TlsCertificate',
  {
    certificate_chain: dataSource.optional(),
    private_key: dataSource.optional(),
    password: dataSource.optional(),
    pkcs12: unsupported('PKCS#12 certificates are not implemented: give certificate_chain and private_key (PEM)').optional(),
    watched_directory: unsupported('watched_directory is not implemented: certificates are read at start-up').optional(),
    private_key_provider: unsupported('private key providers are not implemented').optional(),
    ocsp_staple: dataSource.optional(),
    signed_certificate_timestamp: z.array(dataSource).default([]),
  },
  { rules: checkCertificate },
);
export type TlsCertificate = z.output<typeof tlsCertificate>;

const SAN_TYPES = { SAN_TYPE_UNSPECIFIED: 0, EMAIL: 1, DNS: 2, URI: 3, IP_ADDRESS: 4, OTHER_NAME: 5 } as const;

export const subjectAltNameMatcher = message(
  'envoy.extensions.transport_sockets.tls.v3.SubjectAltNameMatcher',
  {
    san_type: protoEnum(SAN_TYPES, ['EMAIL', 'DNS', 'URI', 'IP_ADDRESS'], 'it is not implemented'),
    matcher: stringMatcher,
    oid: z.string().optional(),
  },
);
export type SubjectAltNameMatcher = z.output<typeof subjectAltNameMatcher>;

export const certificateValidationContext = message(
  'envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext',
  {
    trusted_ca: dataSource.optional(),
    ca_certificate_provider_instance: unsupported('certificate provider instances are not implemented').optional(),
    watched_directory: unsupported('watched_directory is not implemented: the CA is read at start-up').optional(),
    verify_certificate_spki: z.array(nonEmptyString()).default([]),
    verify_certificate_hash: z.array(nonEmptyString()).default([]),
    match_typed_subject_alt_names: z.array(subjectAltNameMatcher).default([]),
    /** Deprecated: any SAN type; folded into match_typed_subject_alt_names' behaviour at run time. */
    match_subject_alt_names: z.array(stringMatcher).default([]),
    require_signed_certificate_timestamp: z.boolean().default(false),
    crl: dataSource.optional(),
    allow_expired_certificate: z.boolean().default(false),
    trust_chain_verification: protoEnum({ VERIFY_TRUST_CHAIN: 0, ACCEPT_UNTRUSTED: 1 }).default('VERIFY_TRUST_CHAIN'),
    custom_validator_config: unsupported('custom certificate validators are not implemented').optional(),
    only_verify_leaf_cert_crl: z.boolean().default(false),
    max_verify_depth: uint32().optional(),
  },
  {
    deprecated: { match_subject_alt_names: 'match_typed_subject_alt_names' },
    rules: (context, report) => {
      if (context.trusted_ca !== undefined) checkTrustedCa(context.trusted_ca, report);
      context.verify_certificate_hash.forEach((hash, i) => {
        if (!/^[0-9a-fA-F]{2}(:?[0-9a-fA-F]{2}){31}$/.test(hash)) report(['verify_certificate_hash', i], `Invalid hex-encoded SHA-256 ${hash}`);
      });
      context.verify_certificate_spki.forEach((spki, i) => {
        if (Buffer.from(spki, 'base64').length !== 32) report(['verify_certificate_spki', i], `Invalid base64-encoded SHA-256 ${spki}`);
      });
      if (context.require_signed_certificate_timestamp) report(['require_signed_certificate_timestamp'], 'not supported: signed certificate timestamps are not checked by il');
      if (context.crl !== undefined) report(['crl'], 'not supported: certificate revocation lists are not implemented');
    },
  },
);
export type CertificateValidationContext = z.output<typeof certificateValidationContext>;

/** A secret named in `static_resources.secrets` (il has no SDS server: sds_config is not read). */
export const sdsSecretConfig = message('envoy.extensions.transport_sockets.tls.v3.SdsSecretConfig', {
  name: nonEmptyString(),
  sds_config: struct.optional(),
}, {
  rules: (config, report) => {
    if (config.sds_config !== undefined) report(['sds_config'], 'not supported: il has no SDS client; name a secret of static_resources.secrets and leave sds_config out');
  },
});
export type SdsSecretConfig = z.output<typeof sdsSecretConfig>;

export const combinedValidationContext = message('envoy.extensions.transport_sockets.tls.v3.CommonTlsContext.CombinedCertificateValidationContext', {
  default_validation_context: certificateValidationContext,
  validation_context_sds_secret_config: sdsSecretConfig,
});

export const commonTlsContext = message(
  'envoy.extensions.transport_sockets.tls.v3.CommonTlsContext',
  {
    tls_params: tlsParameters.optional(),
    tls_certificates: z.array(tlsCertificate).default([]),
    tls_certificate_sds_secret_configs: z.array(sdsSecretConfig).default([]),
    tls_certificate_provider_instance: unsupported('certificate provider instances are not implemented').optional(),
    tls_certificate_certificate_provider: unsupported('certificate providers are not implemented').optional(),
    tls_certificate_certificate_provider_instance: unsupported('certificate providers are not implemented').optional(),
    validation_context: certificateValidationContext.optional(),
    validation_context_sds_secret_config: sdsSecretConfig.optional(),
    combined_validation_context: combinedValidationContext.optional(),
    validation_context_certificate_provider: unsupported('certificate providers are not implemented').optional(),
    validation_context_certificate_provider_instance: unsupported('certificate providers are not implemented').optional(),
    alpn_protocols: z.array(z.string()).default([]),
    custom_handshaker: unsupported('custom TLS handshakers are not implemented').optional(),
    key_log: unsupported('TLS key logging is not implemented').optional(),
    custom_tls_certificate_selector: unsupported('custom certificate selectors are not implemented').optional(),
  },
  {
    oneofs: [
      oneof(
        'validation_context',
        'validation_context_sds_secret_config',
        'combined_validation_context',
        'validation_context_certificate_provider',
        'validation_context_certificate_provider_instance',
      ),
    ],
  },
);
export type CommonTlsContext = z.output<typeof commonTlsContext>;

/** The TLS transport socket names Envoy accepts for `name:` alone. */
const TLS_NAMES = ['envoy.transport_sockets.tls'];

export const downstreamTlsContext = typedMessage(
  'envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext',
  TLS_NAMES,
  {
    common_tls_context: commonTlsContext.prefault({}),
    require_client_certificate: z.boolean().default(false),
    require_sni: z.boolean().default(false),
    session_ticket_keys: struct.optional(),
    session_ticket_keys_sds_secret_config: sdsSecretConfig.optional(),
    disable_stateless_session_resumption: z.boolean().default(false),
    disable_stateful_session_resumption: z.boolean().default(false),
    session_timeout: duration().optional(),
    ocsp_staple_policy: protoEnum({ LENIENT_STAPLING: 0, STRICT_STAPLING: 1, MUST_STAPLE: 2 }, ['LENIENT_STAPLING'], 'OCSP stapling is not implemented').default('LENIENT_STAPLING'),
    full_scan_certs_on_sni_mismatch: z.boolean().default(false),
    prefer_client_ciphers: z.boolean().default(false),
  },
  {
    oneofs: [oneof('session_ticket_keys', 'session_ticket_keys_sds_secret_config', 'disable_stateless_session_resumption')],
    rules: (context, report) => {
      const common = context.common_tls_context;
      if (common.tls_certificates.length === 0 && common.tls_certificate_sds_secret_configs.length === 0) {
        report(['common_tls_context'], 'No TLS certificates found for server context: set tls_certificates or tls_certificate_sds_secret_configs');
      }
      if (context.session_ticket_keys !== undefined) report(['session_ticket_keys'], 'not supported: session ticket keys are Node\'s own; leave session_ticket_keys out');
    },
  },
);
export type DownstreamTlsContext = z.output<typeof downstreamTlsContext.schema>;

export const upstreamTlsContext = typedMessage(
  'envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
  TLS_NAMES,
  {
    common_tls_context: commonTlsContext.prefault({}),
    sni: z.string().max(255).default(''),
    auto_host_sni: z.boolean().default(false),
    auto_sni_san_validation: z.boolean().default(false),
    allow_renegotiation: z.boolean().default(false),
    max_session_keys: uint32().default(1),
    enforce_rsa_key_usage: z.boolean().optional(),
  },
);
export type UpstreamTlsContext = z.output<typeof upstreamTlsContext.schema>;

export const secret = message(
  'envoy.extensions.transport_sockets.tls.v3.Secret',
  {
    name: nonEmptyString(),
    tls_certificate: tlsCertificate.optional(),
    validation_context: certificateValidationContext.optional(),
    session_ticket_keys: unsupported('session ticket keys are not implemented').optional(),
    generic_secret: unsupported('generic secrets are not implemented').optional(),
  },
  { oneofs: [oneof('tls_certificate', 'session_ticket_keys', 'validation_context', 'generic_secret')] },
);
export type Secret = z.output<typeof secret>;

/** The tls_inspector listener filter: the ClientHello's SNI and ALPN pick the filter chain. */
export const tlsInspector = typedMessage('envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector', ['envoy.filters.listener.tls_inspector'], {
  enable_ja3_fingerprinting: z.boolean().default(false),
  enable_ja4_fingerprinting: z.boolean().default(false),
  initial_read_buffer_size: uint32({ min: 1, max: 65536 }).optional(),
});
export type TlsInspector = z.output<typeof tlsInspector.schema>;

// ---------------------------------------------------------------- checks that read the material

/** The bytes of a DataSource, or why they cannot be read (the env and files are read at validation, as Envoy does at load). */
export function readDataSource(source: DataSource): { text: string } | { error: string } {
  if (source.inline_string !== undefined) return { text: source.inline_string };
  if (source.inline_bytes !== undefined) return { text: Buffer.from(source.inline_bytes, 'base64').toString('utf8') };
  if (source.filename !== undefined) {
    try {
      return { text: readFileSync(source.filename, 'utf8') };
    } catch (error) {
      return { error: `cannot read ${source.filename}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}` };
    }
  }
  if (source.environment_variable !== undefined) {
    const value = process.env[source.environment_variable];
    return value === undefined ? { error: `Environment variable doesn't exist: ${source.environment_variable}` } : { text: value };
  }
  return { text: '' };
}

function describeSource(source: DataSource): string {
  if (source.filename !== undefined) return source.filename;
  if (source.environment_variable !== undefined) return `environment variable ${source.environment_variable}`;
  return '<inline>';
}

/** The PEM certificates in `text` (at least one), or the reason there are none. */
export function parseCertificates(text: string): X509Certificate[] | string {
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) return 'no PEM certificate found';
  try {
    return blocks.map((block) => new X509Certificate(block));
  } catch (error) {
    return (error as Error).message;
  }
}

function checkCertificate(cert: { readonly certificate_chain?: DataSource | undefined; readonly private_key?: DataSource | undefined; readonly password?: DataSource | undefined }, report: Report): void {
  const chainSource = cert.certificate_chain;
  const keySource = cert.private_key;
  if (chainSource === undefined || keySource === undefined) {
    report([chainSource === undefined ? 'certificate_chain' : 'private_key'], 'a TLS certificate needs both certificate_chain and private_key');
    return;
  }
  const chain = readDataSource(chainSource);
  if ('error' in chain) {
    report(['certificate_chain'], `Failed to load certificate chain from ${describeSource(chainSource)}: ${chain.error}`);
    return;
  }
  const certificates = parseCertificates(chain.text);
  if (typeof certificates === 'string') {
    report(['certificate_chain'], `Failed to load certificate chain from ${describeSource(chainSource)}: ${certificates}`);
    return;
  }
  const key = readDataSource(keySource);
  if ('error' in key) {
    report(['private_key'], `Failed to load private key from ${describeSource(keySource)}: ${key.error}`);
    return;
  }
  const password = cert.password === undefined ? undefined : readDataSource(cert.password);
  if (password !== undefined && 'error' in password) {
    report(['password'], password.error);
    return;
  }
  try {
    const privateKey = createPrivateKey({ key: key.text, ...(password === undefined ? {} : { passphrase: password.text }) });
    if (!(certificates[0] as X509Certificate).checkPrivateKey(privateKey)) {
      report(['private_key'], `Failed to load private key from ${describeSource(keySource)}, Cause: the key does not match the certificate in ${describeSource(chainSource)} (KEY_VALUES_MISMATCH)`);
    }
  } catch (error) {
    report(['private_key'], `Failed to load private key from ${describeSource(keySource)}, Cause: ${(error as Error).message}`);
  }
}

function checkTrustedCa(source: DataSource, report: Report): void {
  const ca = readDataSource(source);
  if ('error' in ca) {
    report(['trusted_ca'], `Failed to load trusted CA certificates from ${describeSource(source)}: ${ca.error}`);
    return;
  }
  // Envoy 1.35+ refuses an empty trusted CA instead of accepting every certificate.
  if (ca.text.trim() === '') {
    report(['trusted_ca'], `Failed to load trusted CA certificates from ${describeSource(source)}: the trusted CA is empty`);
    return;
  }
  const certificates = parseCertificates(ca.text);
  if (typeof certificates === 'string') report(['trusted_ca'], `Failed to load trusted CA certificates from ${describeSource(source)}: ${certificates}`);
}
