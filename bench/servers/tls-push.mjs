// The load of the TLS throughput bench: one TLS 1.3 connection (TLS_AES_128_GCM_SHA256 offered,
// nothing else) that writes 256 KiB chunks as fast as backpressure allows for `omit + seconds`,
// to tls-sink.mjs directly or through a TLS-terminating proxy. The throughput is the sink's own
// byte count, as it reports it every 100 ms, over the last `seconds` (the first `omit` seconds
// are left out, as iperf3 -O does); `bytes` counts everything the sink received.
//
// Prints one JSON line: {gbps, bytes, seconds, version, cipher, sink: {version, cipher}}, where
// version/cipher are the client's leg and sink the leg the sink saw (the proxy's upstream).
// Usage: node bench/servers/tls-push.mjs <port> <seconds> <omit>
import tls from 'node:tls';

const CIPHER = 'TLS_AES_128_GCM_SHA256';
const port = Number(process.argv[2]);
const seconds = Number(process.argv[3]);
const omit = Number(process.argv[4] ?? 0);
if (!port || !(seconds > 0) || !(omit >= 0)) {
  process.stderr.write('usage: tls-push.mjs <port> <seconds> <omit>\n');
  process.exit(2);
}

const fail = (/** @type {string} */ why) => {
  process.stdout.write(`${JSON.stringify({ error: why })}\n`);
  process.exit(1);
};
// Hard bound, whatever happens on the way.
setTimeout(() => fail(`no result within ${omit + seconds + 10} s`), (omit + seconds + 10) * 1000).unref();

const chunk = Buffer.alloc(256 * 1024, 'x');
const socket = tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false, minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3', ciphers: CIPHER });
socket.setNoDelay(true);
socket.on('error', (err) => fail(`${err.message}`));

/** @type {{version?: string, cipher?: string} | undefined} */
let sink;
/** @type {{t: number, bytes: number}[]} */
const samples = [];
let pending = '';
let start = 0;
let stopped = false;

socket.on('data', (/** @type {Buffer} */ d) => {
  pending += d.toString('latin1');
  let nl;
  while ((nl = pending.indexOf('\n')) >= 0) {
    const line = pending.slice(0, nl);
    pending = pending.slice(nl + 1);
    if (line.startsWith('{')) sink = JSON.parse(line);
    else if (!stopped) samples.push({ t: performance.now(), bytes: Number(line) });
  }
});

socket.once('secureConnect', () => {
  start = performance.now();
  const pump = () => {
    while (!stopped && socket.write(chunk));
  };
  socket.on('drain', pump);
  pump();
  setTimeout(finish, (omit + seconds) * 1000);
});

function finish() {
  stopped = true;
  const from = samples.find((s) => s.t - start >= omit * 1000);
  const to = samples.at(-1);
  if (!from || !to || to.t - from.t < 200) fail(`the sink reported ${samples.length} byte counts: too few to measure`);
  const a = /** @type {{t: number, bytes: number}} */ (from);
  const b = /** @type {{t: number, bytes: number}} */ (to);
  const out = {
    gbps: ((b.bytes - a.bytes) * 8) / ((b.t - a.t) / 1000) / 1e9,
    bytes: b.bytes,
    seconds: (b.t - a.t) / 1000,
    version: socket.getProtocol(),
    cipher: socket.getCipher().standardName,
    sink,
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
  socket.destroy();
  process.exit(0);
}
