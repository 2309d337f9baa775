// The load generators, each run to completion under a hard time limit, their output parsed into
// one figure set: throughput, latency percentiles, and the unit count (bytes or requests) that
// CPU use is divided by.
import { readFileSync, rmSync } from 'node:fs';
import { TLS13_CIPHER } from './configs.mjs';
import { runCommand } from './proc.mjs';
import { quantile } from './stats.mjs';

/**
 * @typedef {object} LoadResult
 * @property {number} throughput   Gbit/s (iperf3, tls-push), requests/s (wrk, h2load) or handshakes/s (openssl s_time)
 * @property {number} [p50Ms]
 * @property {number} [p99Ms]
 * @property {number} units        bytes moved (iperf3, tls-push), requests completed (wrk, h2load) or handshakes, over the whole run
 * @property {string} [note]
 */

/** Thrown for a run that produced no trustworthy figure; the message says why. */
export class LoadError extends Error {}

/**
 * iperf3 client, one stream, client -> server. The first `omit` seconds are left out of the
 * throughput (TCP ramp-up, JIT warm-up) but not out of `units`, which counts every byte sent
 * while the proxy's CPU was being measured.
 * @param {{port: number, seconds: number, omit: number}} o
 * @returns {Promise<LoadResult>}
 */
export async function iperf3({ port, seconds, omit }) {
  const args = ['-c', '127.0.0.1', '-p', String(port), '-t', String(seconds), '-O', String(omit), '-J', '--connect-timeout', '3000'];
  const r = await runCommand('iperf3', args, (seconds + omit + 15) * 1000);
  if (r.timedOut) throw new LoadError(`iperf3 did not finish within ${seconds + omit + 15} s`);
  /** @type {any} */
  let json;
  try {
    json = JSON.parse(r.stdout);
  } catch {
    throw new LoadError(`iperf3 exited ${r.code} without JSON: ${(r.stderr || r.stdout).trim().slice(0, 200)}`);
  }
  if (json.error) throw new LoadError(`iperf3: ${json.error}`);
  const bps = json.end?.sum_received?.bits_per_second;
  if (!(bps > 0)) throw new LoadError('iperf3 reported no bytes received');
  let units = 0;
  for (const interval of json.intervals ?? []) units += interval.sum?.bytes ?? 0;
  return { throughput: bps / 1e9, units };
}

const TIME_UNITS = { us: 1e-3, ms: 1, s: 1000, m: 60_000 };
/** "1.23ms" -> 1.23 */
function wrkMs(/** @type {string} */ value, /** @type {string} */ unit) {
  return Number(value) * /** @type {number} */ (TIME_UNITS[/** @type {keyof typeof TIME_UNITS} */ (unit)] ?? Number.NaN);
}

/**
 * wrk (HTTP/1.1), `connections` keep-alive connections on `threads` threads for `seconds`.
 * @param {{port: number, seconds: number, connections: number, threads: number, path?: string}} o
 * @returns {Promise<LoadResult>}
 */
export async function wrk({ port, seconds, connections, threads, path = '/' }) {
  const args = [`-t${threads}`, `-c${connections}`, `-d${seconds}s`, '--timeout', '2s', '--latency', `http://127.0.0.1:${port}${path}`];
  const r = await runCommand('wrk', args, (seconds + 15) * 1000);
  if (r.timedOut) throw new LoadError(`wrk did not finish within ${seconds + 15} s`);
  const out = r.stdout;
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
  const total = /(\d+) requests in ([\d.]+)(us|ms|s|m)/.exec(out);
  if (!rps || !total) throw new LoadError(`wrk exited ${r.code}: ${(r.stderr || out).trim().split('\n').slice(-2).join(' | ').slice(0, 200)}`);
  const requests = Number(total[1]);
  const pct = (/** @type {string} */ p) => {
    const m = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm').exec(out);
    return m ? wrkMs(/** @type {string} */ (m[1]), /** @type {string} */ (m[2])) : Number.NaN;
  };
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  const socketErrors = sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0;
  const bad = non2xx + socketErrors;
  if (requests === 0) throw new LoadError(`wrk completed no request${sock ? ` (${sock[0]})` : ''}`);
  if (bad > requests * 0.01) {
    throw new LoadError(`wrk: ${bad} of ${requests} requests failed (${non2xx} non-2xx${sock ? `, ${sock[0]}` : ''})`);
  }
  /** @type {LoadResult} */
  const result = { throughput: Number(rps[1]), p50Ms: pct('50'), p99Ms: pct('99'), units: requests };
  if (bad > 0) result.note = `${bad} failed requests`;
  return result;
}

/**
 * h2load (HTTP/2 with prior knowledge), `clients` connections with `streams` concurrent streams
 * each, for `seconds`. Percentiles come from its per-request log.
 * @param {{port: number, seconds: number, clients: number, streams: number, logFile: string, path?: string}} o
 * @returns {Promise<LoadResult>}
 */
export async function h2load({ port, seconds, clients, streams, logFile, path = '/' }) {
  const args = ['-t1', `-c${clients}`, `-m${streams}`, '-D', String(seconds), '--log-file', logFile, `http://127.0.0.1:${port}${path}`];
  const r = await runCommand('h2load', args, (seconds + 15) * 1000);
  if (r.timedOut) throw new LoadError(`h2load did not finish within ${seconds + 15} s`);
  const out = r.stdout;
  const fin = /finished in ([\d.]+)(us|ms|s|m), ([\d.]+) req\/s/.exec(out);
  const req = /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(out);
  const status = /status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/.exec(out);
  if (!fin || !req) throw new LoadError(`h2load exited ${r.code}: ${(r.stderr || out).trim().split('\n').slice(-2).join(' | ').slice(0, 200)}`);
  const succeeded = Number(req[4]);
  const done = Number(req[3]);
  const bad = Number(req[5]) + Number(req[6]) + Number(req[7]) + (status ? Number(status[3]) + Number(status[4]) : 0);
  if (succeeded === 0) throw new LoadError(`h2load: no request succeeded (${req[0]})`);
  if (bad > done * 0.01) throw new LoadError(`h2load: ${bad} of ${done} requests failed (${req[0]})`);
  /** @type {number[]} */
  const durationsMs = [];
  try {
    // Each line: start time (µs since the run started), status code, duration (µs).
    for (const line of readFileSync(logFile, 'utf8').split('\n')) {
      const f = line.split('\t');
      if (f.length >= 3) durationsMs.push(Number(f[2]) / 1000);
    }
  } finally {
    rmSync(logFile, { force: true });
  }
  return { throughput: Number(fin[3]), p50Ms: quantile(durationsMs, 0.5), p99Ms: quantile(durationsMs, 0.99), units: succeeded };
}

const TLS_PUSH = new URL('../servers/tls-push.mjs', import.meta.url).pathname;

/**
 * bench/servers/tls-push.mjs: one TLS 1.3 connection pushing bytes to the TLS sink (directly or
 * through the subject) for `omit + seconds`; the throughput of the last `seconds` at the sink.
 * Fails unless both legs (client to subject, subject to sink) are TLS 1.3 with the bench cipher.
 * @param {{port: number, seconds: number, omit: number}} o
 * @returns {Promise<LoadResult>}
 */
export async function tlsPush({ port, seconds, omit }) {
  const limit = seconds + omit + 15;
  const r = await runCommand(process.execPath, [TLS_PUSH, String(port), String(seconds), String(omit)], limit * 1000);
  if (r.timedOut) throw new LoadError(`tls-push did not finish within ${limit} s`);
  /** @type {any} */
  let json;
  try {
    json = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '');
  } catch {
    throw new LoadError(`tls-push exited ${r.code} without JSON: ${(r.stderr || r.stdout).trim().slice(0, 200)}`);
  }
  if (json.error) throw new LoadError(`tls-push: ${json.error}`);
  for (const [leg, v] of [['client', json], ['upstream', json.sink ?? {}]]) {
    if (v.version !== 'TLSv1.3' || v.cipher !== TLS13_CIPHER) throw new LoadError(`the ${leg} leg negotiated ${v.version} ${v.cipher}, not TLSv1.3 ${TLS13_CIPHER}`);
  }
  if (!(json.gbps > 0)) throw new LoadError('tls-push: the sink received nothing');
  return { throughput: json.gbps, units: json.bytes };
}

/** The handshake load's command line, for one client. @param {number} port @param {number} seconds */
export const sTimeArgs = (port, seconds) => ['s_time', '-connect', `127.0.0.1:${port}`, '-new', '-tls1_3', '-ciphersuites', TLS13_CIPHER, '-time', String(seconds)];

/**
 * Full TLS 1.3 handshakes, no resumption: `clients` `openssl s_time -new` processes at once, each
 * connecting, handshaking and closing in a loop for `seconds` (whole seconds of its own clock, so a
 * run lasts up to a second longer). Handshakes/s = every client's connections / the wall time
 * from the first start to the last exit.
 * @param {{port: number, seconds: number, clients: number}} o
 * @returns {Promise<LoadResult>}
 */
export async function tlsHandshakes({ port, seconds, clients }) {
  const t0 = performance.now();
  const runs = await Promise.all(Array.from({ length: clients }, () => runCommand('openssl', sTimeArgs(port, seconds), (seconds + 15) * 1000)));
  const wall = (performance.now() - t0) / 1000;
  let handshakes = 0;
  for (const r of runs) {
    if (r.timedOut) throw new LoadError(`openssl s_time did not finish within ${seconds + 15} s`);
    const m = /(\d+) connections in [\d.]+ real seconds/.exec(r.stdout);
    if (r.code !== 0 || !m) throw new LoadError(`openssl s_time exited ${r.code}: ${(r.stderr || r.stdout).trim().split('\n').slice(-2).join(' | ').slice(0, 200)}`);
    handshakes += Number(m[1]);
  }
  if (handshakes === 0) throw new LoadError('openssl s_time completed no handshake');
  return { throughput: handshakes / wall, units: handshakes };
}
