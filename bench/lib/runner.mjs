// Runs one bench: its subjects interleaved round by round (A B C A B C ...), each measurement
// with a fresh subject and backend that are stopped, by process group, before the next begins.
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { LoadError, h2load, iperf3, sTimeArgs, tlsHandshakes, tlsPush, wrk } from './loadgen.mjs';
import { groupCpuSeconds, groupPeakRssBytes, groupMembers, stopProcess } from './proc.mjs';
import { startBackend, subject as subjectById } from './subjects.mjs';

/** @typedef {import('./subjects.mjs').Subject} Subject */
/** @typedef {import('./subjects.mjs').StartContext} StartContext */
/** @typedef {import('./proc.mjs').Proc} Proc */

/**
 * @typedef {object} Bench
 * @property {string} id
 * @property {string} title
 * @property {'iperf3' | 'wrk' | 'h2load' | 'idle' | 'tls-push' | 'tls-handshakes'} load
 *   tls-push: Gbit/s of one TLS connection into the TLS sink; tls-handshakes: new TLS connections/s
 * @property {'iperf3' | 'echo' | 'http'} [tcpBackend]   backend of subjects that need a TCP one
 * @property {string[]} subjects    subject ids, in table order
 * @property {string[]} peers       ratio peers (subject ids), first one is the chart's
 * @property {number} [quickRounds]  fewer rounds under --quick (a slow bench whose figure barely varies)
 */

/**
 * @typedef {object} Settings
 * @property {number} rounds
 * @property {boolean} quick
 * @property {number} deadline        Date.now() past which no measurement starts
 * @property {string} tmp             scratch root
 * @property {(line: string) => void} log
 */

/**
 * @typedef {object} Measurement
 * @property {boolean} ok
 * @property {string} [error]
 * @property {number} [throughput]    Gbit/s, req/s or handshakes/s
 * @property {number} [p50Ms]
 * @property {number} [p99Ms]
 * @property {number} [cpuPerUnit]    CPU s per GB, or CPU ms per 1k requests (or handshakes)
 * @property {number} [rssMiB]        peak RSS (VmHWM) of the subject's processes, summed
 * @property {number} [kibPerTunnel]  idle bench: RSS growth per open tunnel
 * @property {number} [tunnels]
 * @property {string} [note]
 */

/**
 * @typedef {object} SubjectResult
 * @property {Subject} subject
 * @property {string} [unavailable]   why it never produced a measurement
 * @property {(Measurement | undefined)[]} rounds
 * @property {string[]} commands      from its first start
 * @property {string[]} backendCommands
 * @property {{name: string, text: string}[]} files
 * @property {{name: string, text: string}[]} backendFiles
 */

/**
 * @typedef {object} BenchResult
 * @property {Bench} bench
 * @property {SubjectResult[]} subjects
 * @property {string} loadCommand
 */

/** Load settings: full runs measure longer and warm up first. */
export function loadSettings(/** @type {boolean} */ quick) {
  return quick
    ? { iperfSeconds: 1, iperfOmit: 0, httpSeconds: 1, warmupSeconds: 1, connections: 50, h2Clients: 10, h2Streams: 10, idleTunnels: 1000, tlsClients: 4 }
    : { iperfSeconds: 5, iperfOmit: 1, httpSeconds: 5, warmupSeconds: 3, connections: 50, h2Clients: 10, h2Streams: 10, idleTunnels: 10_000, tlsClients: 4 };
}

/** The load generator's command line with `<port>` for the port, as BENCHMARKS.md shows it. */
export function loadCommandLine(/** @type {Bench} */ bench, /** @type {boolean} */ quick) {
  const s = loadSettings(quick);
  switch (bench.load) {
    case 'iperf3':
      return `iperf3 -c 127.0.0.1 -p <port> -t ${s.iperfSeconds} -O ${s.iperfOmit} -J`;
    case 'wrk':
      return `${s.warmupSeconds ? `wrk -t1 -c${s.connections} -d${s.warmupSeconds}s (warm-up), then ` : ''}wrk -t1 -c${s.connections} -d${s.httpSeconds}s --timeout 2s --latency http://127.0.0.1:<port>/`;
    case 'h2load':
      return `${s.warmupSeconds ? `h2load ... -D ${s.warmupSeconds} (warm-up), then ` : ''}h2load -t1 -c${s.h2Clients} -m${s.h2Streams} -D ${s.httpSeconds} --log-file <tmp> http://127.0.0.1:<port>/`;
    case 'idle':
      return `${s.idleTunnels} TCP connections from the harness, each sending 1 byte and reading its echo, then held idle`;
    case 'tls-push':
      return `node bench/servers/tls-push.mjs <port> ${s.iperfSeconds} ${s.iperfOmit} (one TLS 1.3 connection, 256 KiB writes, counted by bench/servers/tls-sink.mjs)`;
    case 'tls-handshakes':
      return `${s.warmupSeconds ? `the same for ${s.warmupSeconds} s (warm-up), then ` : ''}${s.tlsClients} x openssl ${sTimeArgs(0, s.httpSeconds).join(' ').replace(':0', ':<port>')} at once`;
  }
}

/** Stops every process of a measurement; returns the names of any that would not die. */
async function stopAll(/** @type {Proc[]} */ procs) {
  /** @type {string[]} */
  const leaked = [];
  // Subjects first (their backends may be what keeps them busy), in reverse start order.
  for (const p of [...procs].reverse()) if (!(await stopProcess(p))) leaked.push(`${p.name} (pgid ${p.pid})`);
  return leaked;
}

const cpuOf = (/** @type {Proc[]} */ procs) => procs.reduce((sum, p) => sum + groupCpuSeconds(p.pid), 0);
const rssOf = (/** @type {Proc[]} */ procs) => procs.reduce((sum, p) => sum + groupPeakRssBytes(p.pid), 0);

/** Current (not peak) resident set of the processes, in bytes. */
function currentRss(/** @type {Proc[]} */ procs) {
  let kib = 0;
  for (const p of procs) {
    for (const pid of groupMembers(p.pid)) {
      try {
        const m = /VmRSS:\s+(\d+)\s+kB/.exec(readStatus(pid));
        if (m?.[1]) kib += Number(m[1]);
      } catch {
        // gone
      }
    }
  }
  return kib * 1024;
}
const readStatus = (/** @type {number} */ pid) => readFileSync(`/proc/${pid}/status`, 'utf8');

const sleep = (/** @type {number} */ ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Opens `count` connections to the subject, each proven end to end by a 1-byte echo, and
 * reports how much the subject's resident memory grew per connection. Bounded by `timeoutMs`.
 * @param {number} port @param {number} count @param {Proc[]} procs @param {number} timeoutMs
 */
async function idleTunnels(port, count, procs, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  await sleep(300);
  const before = currentRss(procs);
  /** @type {net.Socket[]} */
  const sockets = [];
  try {
    let opened = 0;
    const openOne = () =>
      new Promise((resolve, reject) => {
        const s = net.connect({ port, host: '127.0.0.1' });
        sockets.push(s);
        const timer = setTimeout(() => reject(new LoadError(`tunnel ${opened + 1} got no echo within 5 s`)), 5000);
        s.once('error', (err) => {
          clearTimeout(timer);
          reject(new LoadError(`after ${opened} tunnels: ${err.message}`));
        });
        s.once('data', () => {
          clearTimeout(timer);
          opened++;
          resolve(undefined);
        });
        s.write('x');
      });
    const BATCH = 100;
    while (opened < count) {
      if (Date.now() > deadline) throw new LoadError(`only ${opened} of ${count} tunnels opened within ${timeoutMs / 1000} s`);
      const n = Math.min(BATCH, count - opened);
      await Promise.all(Array.from({ length: n }, openOne));
    }
    await sleep(1000); // let allocations settle before reading
    const after = currentRss(procs);
    return { kibPerTunnel: (after - before) / 1024 / count, tunnels: count };
  } finally {
    for (const s of sockets) s.destroy();
  }
}

/**
 * Drives a started subject with the bench's load and reads its figures.
 * @param {Bench} bench @param {number} port @param {Proc[]} procs the subject's processes
 * @param {Settings} settings @param {string} dir scratch directory
 * @returns {Promise<Measurement>}
 */
async function applyLoad(bench, port, procs, settings, dir) {
  const s = loadSettings(settings.quick);
  if (bench.load === 'idle') {
    const r = await idleTunnels(port, s.idleTunnels, procs, settings.quick ? 20_000 : 60_000);
    return { ok: true, ...r, rssMiB: rssOf(procs) / 2 ** 20 };
  }
  const logFile = join(dir, 'h2load.log');
  const bytes = bench.load === 'iperf3' || bench.load === 'tls-push';
  const run = async (/** @type {number} */ seconds) => {
    switch (bench.load) {
      case 'iperf3':
        return iperf3({ port, seconds, omit: s.iperfOmit });
      case 'tls-push':
        return tlsPush({ port, seconds, omit: s.iperfOmit });
      case 'wrk':
        return wrk({ port, seconds, connections: s.connections, threads: 1 });
      case 'tls-handshakes':
        return tlsHandshakes({ port, seconds, clients: s.tlsClients });
      default:
        return h2load({ port, seconds, clients: s.h2Clients, streams: s.h2Streams, logFile });
    }
  };
  if (s.warmupSeconds && !bytes) await run(s.warmupSeconds);
  const cpu0 = cpuOf(procs);
  const r = await run(bytes ? s.iperfSeconds : s.httpSeconds);
  const cpu = cpuOf(procs) - cpu0;
  const dead = procs.find((p) => p.exit);
  if (dead) throw new LoadError(`${dead.name} exited during the load (code ${dead.exit?.code})`);
  const own = procs.length > 0; // direct has no process of its own: no CPU or RSS figure rather than a zero
  return {
    ok: true,
    throughput: r.throughput,
    p50Ms: r.p50Ms,
    p99Ms: r.p99Ms,
    cpuPerUnit: !own ? undefined : bytes ? cpu / (r.units / 1e9) : (cpu * 1000) / (r.units / 1000),
    rssMiB: own ? rssOf(procs) / 2 ** 20 : undefined,
    note: r.note,
  };
}

/**
 * One measurement: backend + subject up, warm-up, load, figures, everything stopped.
 * @param {Bench} bench @param {Subject} subj @param {Settings} settings @param {number} round
 * @param {SubjectResult} record  its commands and files are filled in on the first start
 * @returns {Promise<Measurement & {startFailed?: boolean}>}
 */
async function measure(bench, subj, settings, round, record) {
  const dir = join(settings.tmp, `${bench.load}-${subj.id}-${round}`);
  mkdirSync(join(dir, 'backend'), { recursive: true });
  /** @type {StartContext} */
  const backend = { dir: join(dir, 'backend'), backendPort: 0, backendH2Port: 0, procs: [], commands: [], files: [] };
  /** @type {StartContext} */
  const ctx = { dir, backendPort: 0, backendH2Port: 0, procs: [], commands: [], files: [] };
  /** @type {Measurement & {startFailed?: boolean}} */
  let result = { ok: false, error: 'not measured' };
  /** @type {string[]} */
  let leaked = [];
  try {
    const kind = subj.backend === 'tcp' ? (bench.tcpBackend ?? 'iperf3') : subj.backend;
    await startBackend(kind, backend);
    ctx.backendPort = backend.backendPort;
    ctx.backendH2Port = backend.backendH2Port;
    /** @type {number | undefined} */
    let port;
    try {
      port = await subj.start(ctx);
    } catch (err) {
      result = { ok: false, startFailed: true, error: err instanceof Error ? err.message : String(err) };
    } finally {
      if (record.commands.length === 0 && ctx.commands.length > 0) {
        record.commands.push(...ctx.commands);
        record.backendCommands.push(...backend.commands);
        record.files.push(...ctx.files);
        record.backendFiles.push(...backend.files);
      }
    }
    if (port !== undefined) result = await applyLoad(bench, port, ctx.procs, settings, dir);
  } catch (err) {
    result = { ok: false, error: err instanceof Error ? err.message : String(err) };
  } finally {
    leaked = await stopAll([...backend.procs, ...ctx.procs]);
    rmSync(dir, { recursive: true, force: true });
  }
  if (leaked.length > 0) {
    settings.log(`  !! could not stop: ${leaked.join(', ')}`);
    // A measurement whose processes outlived it would skew every later one: stop the run.
    throw new Error(`process groups survived SIGKILL: ${leaked.join(', ')}`);
  }
  return result;
}

/**
 * Runs benches that share a load generator and backend as one: every distinct subject of them is
 * measured once per round, interleaved (A B C A B C ...), and each bench's table and ratios are
 * drawn from those shared rounds. A subject missing on this machine, or failing to start before
 * it ever measured, is reported as unavailable and not retried.
 * @param {Bench[]} benches   all with the same `load` and `tcpBackend`
 * @param {Settings} settings
 * @returns {Promise<BenchResult[]>}
 */
export async function runBenches(benches, settings) {
  const first = benches[0];
  if (!first) return [];
  /** @type {Map<string, SubjectResult>} */
  const pool = new Map();
  for (const bench of benches) {
    for (const id of bench.subjects) {
      if (pool.has(id)) continue;
      const subject = subjectById(id);
      /** @type {SubjectResult} */
      const r = { subject, rounds: [], commands: [], backendCommands: [], files: [], backendFiles: [] };
      const missing = subject.missing?.();
      if (missing) r.unavailable = missing;
      pool.set(id, r);
    }
  }
  settings.log(`\n== ${benches.map((b) => b.title).join('\n== ')}`);
  const quickRounds = settings.quick ? Math.min(...benches.map((b) => b.quickRounds ?? settings.rounds)) : settings.rounds;
  const rounds = Math.min(settings.rounds, quickRounds);
  for (let round = 0; round < rounds; round++) {
    for (const r of pool.values()) {
      if (r.unavailable) continue;
      if (Date.now() > settings.deadline) {
        r.rounds[round] = { ok: false, error: 'not run: time budget used up' };
        continue;
      }
      const m = await measure(first, r.subject, settings, round, r);
      const ever = r.rounds.some((x) => x?.ok);
      if (!m.ok && m.startFailed && !ever) {
        r.unavailable = m.error ?? 'did not start';
        settings.log(`  ${r.subject.id.padEnd(20)} round ${round + 1}: unavailable: ${r.unavailable}`);
        continue;
      }
      delete m.startFailed;
      r.rounds[round] = m;
      settings.log(`  ${r.subject.id.padEnd(20)} round ${round + 1}: ${describe(first, m)}`);
    }
  }
  return benches.map((bench) => ({
    bench,
    subjects: bench.subjects.map((id) => /** @type {SubjectResult} */ (pool.get(id))),
    loadCommand: loadCommandLine(bench, settings.quick),
  }));
}

/** One line of progress. */
function describe(/** @type {Bench} */ bench, /** @type {Measurement} */ m) {
  if (!m.ok) return `failed: ${m.error}`;
  if (bench.load === 'idle') return `${m.tunnels} tunnels, ${m.kibPerTunnel?.toFixed(1)} KiB each`;
  const t =
    bench.load === 'iperf3' || bench.load === 'tls-push'
      ? `${m.throughput?.toFixed(2)} Gbit/s`
      : bench.load === 'tls-handshakes'
        ? `${Math.round(m.throughput ?? 0)} handshakes/s, CPU ${m.cpuPerUnit?.toFixed(0) ?? '—'} ms/1k`
        : `${Math.round(m.throughput ?? 0)} req/s, p99 ${m.p99Ms?.toFixed(2)} ms`;
  return `${t}${m.rssMiB ? `, RSS ${m.rssMiB.toFixed(1)} MiB` : ''}${m.note ? ` (${m.note})` : ''}`;
}
