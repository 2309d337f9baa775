// The far end of the TLS benches: a Node TLS server that counts what it reads and reports it back.
// It accepts TLS 1.3 with TLS_AES_128_GCM_SHA256 only, so that whatever proxy sits in front of it
// (il-proxy, HAProxy, a bare Node relay) negotiates the same cipher on its upstream leg; a proxy
// that cannot fails its handshake instead of being measured with another cipher.
//
// Once a connection has sent its first byte, the sink writes one JSON line with the TLS version
// and cipher of its leg, then, every 100 ms, the number of bytes received so far ("123456\n").
// tls-push.mjs times those counts, as iperf3 measures at the receiver. A connection that only
// handshakes gets nothing written back (the bare Node row of the handshake bench).
//
// Usage: node bench/servers/tls-sink.mjs <port> <certDir>   (certDir: server.pem, server.key)
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import tls from 'node:tls';

const CIPHER = 'TLS_AES_128_GCM_SHA256';

const port = Number(process.argv[2]);
const certDir = process.argv[3];
if (!port || !certDir) {
  process.stderr.write('usage: tls-sink.mjs <port> <certDir>\n');
  process.exit(2);
}

const server = tls.createServer(
  {
    cert: readFileSync(join(certDir, 'server.pem')),
    key: readFileSync(join(certDir, 'server.key')),
    minVersion: 'TLSv1.3',
    maxVersion: 'TLSv1.3',
    ciphers: CIPHER,
  },
  (socket) => {
    let bytes = 0;
    /** @type {NodeJS.Timeout | undefined} */
    let timer;
    socket.on('error', () => socket.destroy());
    socket.on('close', () => clearInterval(timer));
    socket.on('data', (chunk) => {
      bytes += chunk.length;
      if (timer) return;
      socket.write(`${JSON.stringify({ version: socket.getProtocol(), cipher: socket.getCipher().standardName })}\n`);
      timer = setInterval(() => socket.write(`${bytes}\n`), 100);
    });
    socket.on('end', () => {
      clearInterval(timer);
      socket.end(`${bytes}\n`);
    });
  },
);
server.on('tlsClientError', () => {});
server.maxConnections = 50_000;
server.listen({ port, host: '127.0.0.1', backlog: 4096 });
process.on('SIGTERM', () => process.exit(0));
