import type { TLSSocket } from 'node:tls';
import type { Counter } from '../../stats/stat.js';
import type { Scope } from '../../stats/store.js';
import type { VerifyFailure } from './tls-context.js';
import type { ConnectionTlsInfo } from './tls-info.js';

const SSL_COUNTERS = [
  'handshake',
  'connection_error',
  'no_certificate',
  'fail_verify_no_cert',
  'fail_verify_error',
  'fail_verify_san',
  'fail_verify_cert_hash',
  'session_reused',
] as const;

/** OpenSSL's names for the NIST curves, as Envoy names them. */
const CURVE_NAMES: Readonly<Record<string, string>> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' };

/**
 * Envoy's SslStats under a listener's or a cluster's scope (`listener.<address>.ssl.*`,
 * `cluster.<name>.ssl.*`): handshakes, failures by reason, and per version, cipher and curve.
 */
export class SslStats {
  readonly #scope: Scope;
  readonly #counters: Readonly<Record<(typeof SSL_COUNTERS)[number], Counter>>;

  constructor(scope: Scope) {
    this.#scope = scope.scope('ssl');
    this.#counters = this.#scope.counters(SSL_COUNTERS);
  }

  get counters(): Readonly<Record<(typeof SSL_COUNTERS)[number], Counter>> {
    return this.#counters;
  }

  /** A handshake that completed and passed every check; `info` is its version and cipher as tlsInfoOf read them. */
  onHandshake(socket: TLSSocket, info: ConnectionTlsInfo, sentNoCertificate: boolean): void {
    const c = this.#counters;
    c.handshake.inc();
    if (socket.isSessionReused()) c.session_reused.inc();
    if (sentNoCertificate) c.no_certificate.inc();
    if (info.version) this.#scope.counter(`versions.${info.version}`).inc();
    if (info.cipher) this.#scope.counter(`ciphers.${info.cipher}`).inc();
    const curve = socket.getEphemeralKeyInfo();
    if (curve !== null && typeof curve === 'object' && 'name' in curve && typeof curve.name === 'string') this.#scope.counter(`curves.${CURVE_NAMES[curve.name] ?? curve.name}`).inc();
  }

  onVerifyFailure(failure: VerifyFailure): void {
    const c = this.#counters;
    c.connection_error.inc();
    if (failure === 'no_cert') c.fail_verify_no_cert.inc();
    else if (failure === 'error') c.fail_verify_error.inc();
    else if (failure === 'san') c.fail_verify_san.inc();
    else c.fail_verify_cert_hash.inc();
  }

  /** The handshake itself failed (bad records, no shared cipher or version, a plaintext peer...). */
  onHandshakeError(): void {
    this.#counters.connection_error.inc();
  }
}
