// The yardstick for the tunnel bench: a bare Node HTTP/2 CONNECT tunnel, two processes,
// with the flow-control windows Envoy (and il-proxy) default to (256 MiB per stream and per
// connection), so neither side ever waits for WINDOW_UPDATE. No routing, stats, timeouts or
// error mapping: this is the least a Node tunnel can do.
//   encap  <port> <decapPort>    accepts TCP, opens one CONNECT stream per connection, pipe()s both ways
//   decap  <port> <backendPort>  terminates CONNECT: dials the backend, answers 200, pipe()s both ways
// With a certificate directory (bench/lib/certs.mjs) as the last argument, the HTTP/2 connection
// is mutual TLS 1.3 with ALPN h2 (the HBONE bench's yardstick): the decap presents server.pem and
// requires a client certificate of ca.pem, the encap presents client.pem and verifies the decap.
// Usage: node bench/servers/h2-tunnel.mjs encap|decap <port> <targetPort> [certDir]
import { readFileSync } from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import { join } from 'node:path';
import { splice } from './splice.mjs';

const [role, port, target, certDir] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4]), process.argv[5]];
if (!['encap', 'decap'].includes(role ?? '') || !port || !target) {
  process.stderr.write('usage: h2-tunnel.mjs encap|decap <port> <targetPort> [certDir]\n');
  process.exit(2);
}

const WINDOW = 256 * 1024 * 1024;
const pem = (/** @type {string} */ name) => readFileSync(join(/** @type {string} */ (certDir), name));
const mtls = (/** @type {'server' | 'client'} */ who) =>
  certDir === undefined ? {} : { cert: pem(`${who}.pem`), key: pem(`${who}.key`), ca: pem('ca.pem'), minVersion: 'TLSv1.3', ALPNProtocols: ['h2'] };
/** @type {any} node:http2's options, with TLS ones when certDir is given */
const options = { settings: { initialWindowSize: WINDOW }, maxSessionMemory: 512 };

if (role === 'decap') {
  const server =
    certDir === undefined ? http2.createServer(options) : http2.createSecureServer({ ...options, ...mtls('server'), requestCert: true, rejectUnauthorized: true });
  server.on('session', (session) => session.setLocalWindowSize(WINDOW));
  server.on('stream', (stream, headers) => {
    if (headers[':method'] !== 'CONNECT') {
      stream.respond({ ':status': 405 }, { endStream: true });
      return;
    }
    const upstream = net.connect(target, '127.0.0.1', () => {
      stream.respond({ ':status': 200 });
      splice(stream, upstream);
    });
    upstream.once('error', () => stream.close(http2.constants.NGHTTP2_CONNECT_ERROR));
  });
  server.listen(port, '127.0.0.1');
} else {
  /** @type {import('node:http2').ClientHttp2Session | undefined} */
  let session;
  const connect = () => {
    if (session !== undefined && !session.closed && !session.destroyed) return session;
    const s =
      certDir === undefined
        ? http2.connect(`http://127.0.0.1:${target}`, options)
        : http2.connect(`https://127.0.0.1:${target}`, { ...options, ...mtls('client'), checkServerIdentity: () => undefined });
    s.once('connect', () => s.setLocalWindowSize(WINDOW));
    s.on('error', () => undefined);
    session = s;
    return s;
  };
  net
    .createServer((downstream) => {
      downstream.pause();
      const stream = connect().request({ ':method': 'CONNECT', ':authority': 'host.com:443' });
      stream.once('response', (headers) => {
        if (headers[':status'] === 200) splice(downstream, stream);
        else downstream.destroy();
      });
      stream.once('error', () => downstream.destroy());
      downstream.once('error', () => stream.destroy());
    })
    .listen(port, '127.0.0.1');
}
