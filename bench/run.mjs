#!/usr/bin/env node
// pnpm bench [--only socket|routes|tcp|internal|tunnel|http1|http2|tls] [--quick] [--rounds N] [--write | --no-write]
//
// Measures il-proxy side by side with the proxies people know, on this machine, in one run, and
// (with --write, the default for full runs) writes BENCHMARKS.md and bench/chart.svg. Everything
// it starts is stopped by process group, also on failure and on Ctrl-C; the whole run is bounded.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { machineInfo } from './lib/machine.mjs';
import { installExitHandlers, killAllNow, runCommand } from './lib/proc.mjs';
import { chartSvg, markdownReport, textReport } from './lib/report.mjs';
import { runBenches } from './lib/runner.mjs';
import { SECTIONS, SECTION_NAMES } from './lib/sections.mjs';
import { ROOT } from './lib/subjects.mjs';

const USAGE = `usage: node bench/run.mjs [--only ${SECTION_NAMES.join('|')}[,...]] [--quick] [--rounds N] [--write|--no-write] [--budget SECONDS]`;

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    write: { type: 'boolean' },
    'no-write': { type: 'boolean' },
    budget: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
const quick = values.quick ?? false;
const only = values.only ? values.only.split(',') : SECTION_NAMES;
for (const s of only) {
  if (!SECTION_NAMES.includes(s)) {
    process.stderr.write(`unknown section '${s}'\n${USAGE}\n`);
    process.exit(2);
  }
}
const rounds = values.rounds ? Number(values.rounds) : quick ? 3 : 5;
if (!Number.isInteger(rounds) || rounds < 1 || rounds > 50) {
  process.stderr.write(`--rounds must be an integer from 1 to 50\n`);
  process.exit(2);
}
const write = values['no-write'] ? false : (values.write ?? !quick);
// The whole run stops starting measurements past this; --quick stays under 3 minutes.
const budgetSeconds = values.budget ? Number(values.budget) : quick ? 165 : 45 * 60;

// Debian keeps haproxy, nginx and nghttpx in /usr/sbin, which a non-root PATH may lack.
process.env.PATH = [...new Set([...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/sbin'])].filter(Boolean).join(':');

installExitHandlers();
const tmp = mkdtempSync(join(tmpdir(), 'il-bench-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

const started = new Date();
// Versions and the commit il-proxy was built from, as they are when the run starts (other work
// may rebuild apps/proxy/dist while it runs), and the machine's load through the run.
const machineAtStart = write ? machineInfo() : undefined;
const load = { start: loadavg()[0] ?? 0, max: loadavg()[0] ?? 0 };
setInterval(() => (load.max = Math.max(load.max, loadavg()[0] ?? 0)), 5000).unref();
const deadline = Date.now() + budgetSeconds * 1000;
const log = (/** @type {string} */ line) => process.stderr.write(`${line}\n`);
log(`[bench] sections: ${only.join(', ')}; ${rounds} rounds${quick ? ', quick' : ''}; budget ${budgetSeconds} s; scratch ${tmp}`);

const socketArgs = quick ? ['--rounds', String(rounds), '--ms', '200', '--pings', '1000'] : ['--rounds', String(rounds), '--ms', '500', '--pings', '5000'];
const socketCommand = `node bench/socket/pair.mjs ${socketArgs.join(' ')}`;

/** @type {import('./lib/report.mjs').SocketResult | undefined} */
let socket;
/** @type {any} */
let routes;
/** @type {import('./lib/runner.mjs').BenchResult[]} */
const results = [];
try {
  if (only.includes('routes')) {
    log('\n== Route matching microbenchmark');
    const r = await runCommand(process.execPath, [join(ROOT, 'bench/routes/route-match.mjs'), '--rounds', String(rounds)], 120_000);
    try {
      routes = r.timedOut ? { error: 'timed out' } : JSON.parse(r.stdout);
    } catch {
      routes = { error: `exit ${r.code}: ${r.stderr.trim().split('\n').slice(-3).join(' | ').slice(0, 300)}` };
    }
    log(routes?.error ? `  failed: ${routes.error}` : '  done');
  }
  if (only.includes('socket')) {
    log('\n== User-space socket pair microbenchmark');
    const r = await runCommand(process.execPath, [join(ROOT, 'bench/socket/pair.mjs'), ...socketArgs], quick ? 60_000 : 180_000);
    try {
      socket = r.timedOut ? { error: 'timed out' } : JSON.parse(r.stdout);
    } catch {
      socket = { error: `exit ${r.code}: ${r.stderr.trim().split('\n').slice(-3).join(' | ').slice(0, 300)}` };
    }
    log(socket?.error ? `  failed: ${socket.error}` : '  done');
  }
  // Benches with the same load generator and backend run as one, so a subject that several of
  // them compare against (HAProxy, il-proxy TcpProxy) is measured once per round for all of them.
  const benches = SECTION_NAMES.filter((s) => only.includes(s)).flatMap((s) => SECTIONS[s] ?? []);
  /** @type {Map<string, import('./lib/runner.mjs').Bench[]>} */
  const groups = new Map();
  for (const b of benches) {
    const key = `${b.load}/${b.tcpBackend ?? 'iperf3'}`;
    groups.set(key, [...(groups.get(key) ?? []), b]);
  }
  /** @type {Map<string, import('./lib/runner.mjs').BenchResult>} */
  const byId = new Map();
  for (const group of groups.values()) for (const r of await runBenches(group, { rounds, quick, deadline, tmp, log })) byId.set(r.bench.id, r);
  for (const b of benches) results.push(/** @type {import('./lib/runner.mjs').BenchResult} */ (byId.get(b.id)));
} finally {
  killAllNow();
}

const seconds = (Date.now() - started.getTime()) / 1000;
process.stdout.write(`${textReport(results, socket, routes)}\n\n[bench] ${Math.round(seconds)} s\n`);

if (write) {
  const machine = { ...(machineAtStart ?? machineInfo()), load: { ...load, end: loadavg()[0] ?? 0 } };
  const argv = process.argv.slice(2);
  writeFileSync(join(ROOT, 'BENCHMARKS.md'), markdownReport({ results, socket, routes, machine, argv, rounds, quick, started, seconds, socketCommand }));
  writeFileSync(join(ROOT, 'bench/chart.svg'), chartSvg(results, socket, `${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, ${started.toISOString().slice(0, 10)}, ${rounds} round${rounds === 1 ? '' : 's'}`));
  process.stderr.write('[bench] wrote BENCHMARKS.md and bench/chart.svg\n');
}
