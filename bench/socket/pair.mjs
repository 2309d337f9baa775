// The user-space socket microbenchmark (issue 2): bulk throughput through (a) a loopback TCP
// socket pair, (b) a naive cross-wired Duplex pair, (c) the @il/core pair, at several write sizes,
// and ping-pong round trips over each. Kinds are interleaved round by round; every transfer is
// bounded in time. Prints one JSON object on stdout.
// Usage: node bench/socket/pair.mjs [--rounds N] [--ms M] [--pings P]
import net from 'node:net';
import { parseArgs } from 'node:util';
import { InternalListenerRegistry } from '../../packages/core/dist/index.js';
import { naivePair } from '../lib/naive-pair.mjs';

const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '5' }, ms: { type: 'string', default: '500' }, pings: { type: 'string', default: '5000' } },
});
const ROUNDS = Number(values.rounds);
const MS = Number(values.ms);
const PINGS = Number(values.pings);
export const SIZES = [1024, 4096, 16384, 65536];

/** @typedef {import('node:stream').Duplex} Duplex */
/** @typedef {() => Promise<[Duplex, Duplex]>} PairFactory */

/** (a) both ends of a loopback TCP connection, Nagle off. @type {PairFactory} */
function tcpPair() {
  return new Promise((resolve, reject) => {
    const server = net.createServer({ noDelay: true }, (accepted) => {
      server.close();
      resolve([client, accepted]);
    });
    /** @type {net.Socket} */
    let client;
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const addr = /** @type {net.AddressInfo} */ (server.address());
      client = net.connect({ port: addr.port, host: '127.0.0.1', noDelay: true });
      client.once('error', reject);
    });
  });
}

const registry = new InternalListenerRegistry();
/** Accepted server ends, by endpoint id, so concurrent connects cannot be mixed up. */
const waiting = new Map();
let nextEndpoint = 0;
registry.listen('bench', (serverSide) => {
  const id = String(serverSide.localAddress).split('/').pop();
  waiting.get(id)?.(serverSide);
  waiting.delete(id);
});
/** (c) the @il/core pair. @type {PairFactory} */
function ilPair() {
  const endpointId = String(++nextEndpoint);
  return new Promise((resolve, reject) => {
    const client = registry.connect({ serverListenerName: 'bench', endpointId });
    client.once('error', reject);
    waiting.set(endpointId, (/** @type {Duplex} */ serverSide) => resolve([client, serverSide]));
  });
}

/** @type {Record<string, PairFactory>} */
const KINDS = { tcp: tcpPair, naive: async () => naivePair(), il: ilPair };

const sleep = (/** @type {number} */ ms) => new Promise((r) => setTimeout(r, ms));

/** Bytes per second from a to b for `ms`, writing `size`-byte chunks and honouring backpressure. */
async function bulk(/** @type {PairFactory} */ make, /** @type {number} */ size, /** @type {number} */ ms) {
  const [a, b] = await make();
  a.on('error', () => {});
  b.on('error', () => {});
  const chunk = Buffer.alloc(size, 7);
  let received = 0;
  b.on('data', (/** @type {Buffer} */ d) => (received += d.length));
  let stop = false;
  // Bytes written since the last macrotask. A pair that completes writes through nextTick chains
  // (drain -> write -> drain ...) would otherwise starve the timer that ends the run.
  let sinceYield = 0;
  const resume = () => {
    sinceYield = 0;
    pump();
  };
  const pump = () => {
    while (!stop) {
      if (sinceYield >= 1 << 20) return void setImmediate(resume);
      const ok = a.write(chunk);
      sinceYield += size;
      if (!ok) return void a.once('drain', pump);
    }
  };
  const t0 = process.hrtime.bigint();
  pump();
  await sleep(ms);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const bytes = received;
  stop = true;
  a.destroy();
  b.destroy();
  return bytes / seconds;
}

/** Median round trip, in µs, of a 1-byte ping echoed by the other end (at most `n`, at most 2·ms). */
async function pingPong(/** @type {PairFactory} */ make, /** @type {number} */ n, /** @type {number} */ ms) {
  const [a, b] = await make();
  a.on('error', () => {});
  b.on('error', () => {});
  b.on('data', (/** @type {Buffer} */ d) => b.write(d));
  const one = Buffer.from('x');
  /** @type {number[]} */
  const rtts = [];
  const until = Date.now() + 2 * ms;
  for (let i = 0; i < n && Date.now() < until; i++) {
    const t0 = process.hrtime.bigint();
    await new Promise((resolve) => {
      a.once('data', resolve);
      a.write(one);
    });
    rtts.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  a.destroy();
  b.destroy();
  rtts.sort((x, y) => x - y);
  return rtts[Math.floor(rtts.length / 2)] ?? Number.NaN;
}

/** @type {Record<string, Record<string, number[]>>} bytes/s by size then kind */
const bulkResults = {};
/** @type {Record<string, number[]>} µs by kind */
const pingResults = {};

// Warm-up pass (discarded): JIT and socket buffers settle before the first counted round.
for (const size of SIZES) for (const make of Object.values(KINDS)) await bulk(make, size, MS / 3);
for (const make of Object.values(KINDS)) await pingPong(make, PINGS / 5, MS / 3);

for (let round = 0; round < ROUNDS; round++) {
  for (const size of SIZES) {
    for (const [kind, make] of Object.entries(KINDS)) {
      ((bulkResults[size] ??= {})[kind] ??= []).push(await bulk(make, size, MS));
    }
  }
  for (const [kind, make] of Object.entries(KINDS)) (pingResults[kind] ??= []).push(await pingPong(make, PINGS, MS));
}

process.stdout.write(`${JSON.stringify({ rounds: ROUNDS, ms: MS, pings: PINGS, bulk: bulkResults, pingPongUs: pingResults })}\n`);
process.exit(0);
