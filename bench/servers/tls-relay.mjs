// The Node yardstick of the TLS TcpProxy bench: the least a Node TLS-to-TLS relay can do. It
// terminates TLS 1.3 (the bench's certificate), opens a TLS 1.3 connection to the upstream for
// every client (verifying it against the bench CA, as the proxies do), and pipe()s both ways.
// Usage: node bench/servers/tls-relay.mjs <port> <upstreamPort> <certDir>
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import tls from 'node:tls';
import { splice } from './splice.mjs';

const [port, upstreamPort] = process.argv.slice(2, 4).map(Number);
const certDir = process.argv[4];
if (!port || !upstreamPort || !certDir) {
  process.stderr.write('usage: tls-relay.mjs <port> <upstreamPort> <certDir>\n');
  process.exit(2);
}
const ca = readFileSync(join(certDir, 'ca.pem'));
const server = tls.createServer(
  { cert: readFileSync(join(certDir, 'server.pem')), key: readFileSync(join(certDir, 'server.key')), minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' },
  (down) => {
    down.setNoDelay(true);
    // No SNI and no host name check: the proxies check the chain only (HAProxy: verify required ca-file).
    const up = tls.connect({ port: upstreamPort, host: '127.0.0.1', ca, minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3', checkServerIdentity: () => undefined });
    up.setNoDelay(true);
    splice(down, up);
  },
);
server.on('tlsClientError', () => {});
server.listen(port, '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
