// A throwaway PKI for TLS tests, made with the machine's openssl: a CA and leaf certificates with
// the SANs a test needs (DNS, SPIFFE URIs, IPs). Each call makes its own files under a temp dir.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requirePeer } from './peers.js';

export interface Leaf {
  readonly cert: string;
  readonly key: string;
  /** The leaf followed by its CA, for servers that send the chain. */
  readonly chain: string;
}

export interface Pki {
  readonly dir: string;
  /** The CA certificate (PEM file path). */
  readonly ca: string;
  readonly caKey: string;
  /** A leaf signed by this CA. `days` < 0 makes one that has already expired. */
  leaf(name: string, sans: { dns?: readonly string[]; uri?: readonly string[]; ip?: readonly string[] }, options?: { days?: number; keyType?: 'ec' | 'rsa' }): Leaf;
}

function openssl(args: readonly string[], cwd: string): void {
  execFileSync(requirePeer('openssl'), [...args], { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

function keyArgs(keyType: 'ec' | 'rsa'): string[] {
  return keyType === 'ec' ? ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'] : ['-newkey', 'rsa:2048'];
}

/** openssl's ASN.1 time: YYYYMMDDHHMMSSZ. */
function stamp(date: Date): string {
  return `${date.toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;
}

/** A new CA named `name` in a fresh temp dir. */
export function makePki(name = 'il test CA'): Pki {
  const dir = mkdtempSync(join(tmpdir(), 'il-pki-'));
  openssl(['req', '-x509', ...keyArgs('ec'), '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '30', '-subj', `/CN=${name}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
  const ca = join(dir, 'ca.pem');
  const caKey = join(dir, 'ca.key');
  writeFileSync(join(dir, 'index.txt'), '');
  writeFileSync(join(dir, 'serial'), '1000\n');
  writeFileSync(
    join(dir, 'ca.cnf'),
    '[ca]\ndefault_ca = il\n[il]\ndir = .\ndatabase = index.txt\nnew_certs_dir = .\nserial = serial\ncertificate = ca.pem\nprivate_key = ca.key\n' +
      'default_md = sha256\npolicy = any\nunique_subject = no\n[any]\ncommonName = supplied\norganizationName = optional\n',
  );
  return {
    dir,
    ca,
    caKey,
    leaf(leafName, sans, options = {}) {
      const altNames = [...(sans.dns ?? []).map((d) => `DNS:${d}`), ...(sans.uri ?? []).map((u) => `URI:${u}`), ...(sans.ip ?? []).map((i) => `IP:${i}`)];
      const ext = join(dir, `${leafName}.ext`);
      writeFileSync(ext, `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\n${altNames.length > 0 ? `subjectAltName=${altNames.join(',')}\n` : ''}`);
      openssl(['req', ...keyArgs(options.keyType ?? 'ec'), '-nodes', '-keyout', `${leafName}.key`, '-out', `${leafName}.csr`, '-subj', `/CN=${leafName}/O=il tests`], dir);
      const days = options.days ?? 30;
      // `openssl ca` takes explicit dates, so an expired certificate can be made too.
      const start = days < 0 ? '20200101000000Z' : stamp(new Date(Date.now() - 3600_000));
      const end = days < 0 ? '20200102000000Z' : stamp(new Date(Date.now() + days * 86_400_000));
      openssl(['ca', '-batch', '-config', 'ca.cnf', '-notext', '-in', `${leafName}.csr`, '-out', `${leafName}.pem`, '-startdate', start, '-enddate', end, '-extfile', ext], dir);
      const cert = join(dir, `${leafName}.pem`);
      const chain = join(dir, `${leafName}.chain.pem`);
      writeFileSync(chain, execFileSync('cat', [cert, ca]));
      return { cert, key: join(dir, `${leafName}.key`), chain };
    },
  };
}
