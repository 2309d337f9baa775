// The certificates of the TLS benches, made once per run with openssl into a temp directory by
// examples/hbone/make-certs.sh: a demo CA and ECDSA P-256 leaves. Every TLS subject presents the
// same server certificate (server.pem / server.key, signed by ca.pem); the HBONE pair uses the
// client and server workload certificates as the example does.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
export const MAKE_CERTS = join(ROOT, 'examples/hbone/make-certs.sh');

/**
 * @typedef {object} BenchCerts
 * @property {string} dir
 * @property {string} ca         the CA every subject verifies its upstream against
 * @property {string} cert       server certificate (ECDSA P-256), presented by every TLS subject and the sink
 * @property {string} key
 * @property {string} certAndKey cert and key in one file (HAProxy's `crt`)
 */

/** @type {BenchCerts | undefined} */
let made;

/** Makes the certificates on first use (bounded: 60 s); later calls return the same ones. */
export function benchCerts() {
  if (made) return made;
  const dir = mkdtempSync(join(tmpdir(), 'il-bench-certs-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  execFileSync('sh', [MAKE_CERTS, dir], { timeout: 60_000, stdio: ['ignore', 'ignore', 'pipe'] });
  const c = { dir, ca: join(dir, 'ca.pem'), cert: join(dir, 'server.pem'), key: join(dir, 'server.key'), certAndKey: join(dir, 'server-and-key.pem') };
  writeFileSync(c.certAndKey, readFileSync(c.cert, 'utf8') + readFileSync(c.key, 'utf8'));
  made = c;
  return c;
}
