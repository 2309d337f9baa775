// Child processes of the benchmark: each one is started in its own process group, remembered by
// PID, and stopped by signalling the whole group, so a proxy's workers (nginx, haproxy threads,
// a shell wrapper) never outlive the run. A hard cap on every wait keeps each step bounded.
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import net from 'node:net';

/** @typedef {import('node:child_process').ChildProcess} ChildProcess */

/**
 * @typedef {object} Proc
 * @property {string} name
 * @property {number} pid           process id, also the process group id (spawned detached)
 * @property {ChildProcess} child
 * @property {Promise<{code: number|null, signal: string|null}>} exited
 * @property {{code: number|null, signal: string|null} | undefined} exit  set once it has exited
 * @property {() => string} output  the last few KiB of stdout+stderr, for error messages
 */

/** Every process group this module started and has not yet seen exit. */
const live = new Map();

/**
 * Starts `cmd` in a new process group.
 * @param {string} name
 * @param {string} cmd
 * @param {string[]} args
 * @param {{cwd?: string, env?: NodeJS.ProcessEnv, keepOutput?: number}} [opts]
 * @returns {Proc}
 */
export function startProcess(name, cmd, args, opts = {}) {
  const keep = opts.keepOutput ?? 8192;
  let out = '';
  const child = spawn(cmd, args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const append = (/** @type {Buffer} */ d) => {
    out += d.toString('utf8');
    if (out.length > keep * 2) out = out.slice(-keep);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  /** @type {Proc} */
  const proc = {
    name,
    pid: child.pid ?? -1,
    child,
    exit: undefined,
    output: () => out.slice(-keep),
    exited: new Promise((resolve) => {
      child.once('error', (err) => {
        append(Buffer.from(`${err.message}\n`));
        proc.exit = { code: 127, signal: null };
        resolve(proc.exit);
      });
      child.once('exit', (code, signal) => {
        proc.exit = { code, signal };
        resolve(proc.exit);
      });
    }),
  };
  // Known until stopProcess() has seen the whole group gone: members may outlive the leader.
  if (proc.pid > 0) live.set(proc.pid, proc);
  return proc;
}

/** @param {number} pgid */
function signalGroup(pgid, /** @type {NodeJS.Signals} */ sig) {
  try {
    process.kill(-pgid, sig);
    return true;
  } catch {
    return false; // ESRCH: no process left in the group
  }
}

/** PIDs of every process whose process group is `pgid` (read from /proc). */
export function groupMembers(pgid) {
  /** @type {number[]} */
  const pids = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat && stat.pgrp === pgid && stat.state !== 'Z') pids.push(Number(entry));
  }
  return pids;
}

/**
 * @param {number} pid
 * @returns {{state: string, pgrp: number, ticks: number} | undefined}
 *   ticks = utime + stime + cutime + cstime: the children's share counts too, so the CPU of a
 *   fork-per-connection server (socat) is not lost when a connection's child exits and is reaped
 */
function readStat(pid) {
  let text;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may contain spaces and parentheses: split after the last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); field n is rest[n - 3].
  return { state: rest[0] ?? '?', pgrp: Number(rest[2]), ticks: Number(rest[11]) + Number(rest[12]) + Number(rest[13]) + Number(rest[14]) };
}

const TICKS_PER_SECOND = 100; // USER_HZ on Linux; sysconf(_SC_CLK_TCK) is 100 on every mainstream build

/** CPU seconds (user + system) used so far by the live processes of a group and their reaped children. */
export function groupCpuSeconds(pgid) {
  let ticks = 0;
  for (const pid of groupMembers(pgid)) ticks += readStat(pid)?.ticks ?? 0;
  return ticks / TICKS_PER_SECOND;
}

/** Peak resident set (VmHWM) of every process of a group, summed, in bytes. */
export function groupPeakRssBytes(pgid) {
  let kib = 0;
  for (const pid of groupMembers(pgid)) {
    try {
      const m = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m?.[1]) kib += Number(m[1]);
    } catch {
      // exited between the listing and the read
    }
  }
  return kib * 1024;
}

const sleep = (/** @type {number} */ ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Stops a process group: SIGTERM, then SIGKILL after `graceMs`, and waits (bounded) until no
 * member is left. Resolves true when the group is empty.
 * @param {Proc} proc
 * @param {number} [graceMs]
 */
export async function stopProcess(proc, graceMs = 2000) {
  if (proc.pid <= 0) return true;
  signalGroup(proc.pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (proc.exit && groupMembers(proc.pid).length === 0) break;
    await sleep(20);
  }
  if (!proc.exit || groupMembers(proc.pid).length > 0) signalGroup(proc.pid, 'SIGKILL');
  const hardDeadline = Date.now() + 3000;
  while (Date.now() < hardDeadline) {
    if (proc.exit && groupMembers(proc.pid).length === 0) {
      live.delete(proc.pid);
      return true;
    }
    await sleep(20);
  }
  return false;
}

/** Kills every group still known, at once and synchronously (exit paths cannot wait). */
export function killAllNow() {
  for (const pid of live.keys()) signalGroup(pid, 'SIGKILL');
  live.clear();
}

/** PIDs of the groups started and not yet stopped. */
export function liveGroups() {
  return [...live.keys()];
}

let handlersInstalled = false;
/**
 * Makes sure nothing started here survives the harness: on normal exit, on an uncaught error and
 * on SIGINT/SIGTERM/SIGHUP every known group gets SIGKILL.
 */
export function installExitHandlers() {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', killAllNow);
  for (const sig of /** @type {NodeJS.Signals[]} */ (['SIGINT', 'SIGTERM', 'SIGHUP'])) {
    process.on(sig, () => {
      process.stderr.write(`\n[bench] ${sig}: stopping ${live.size} process group(s)\n`);
      const exits = [...live.values()].map((p) => p.exited);
      killAllNow();
      // Wait (briefly) for the leaders to exit, so that they are reaped here rather than left
      // as zombies for init.
      const timer = setTimeout(() => process.exit(130), 2000);
      void Promise.all(exits).then(() => {
        clearTimeout(timer);
        process.exit(130);
      });
    });
  }
  process.on('uncaughtException', (err) => {
    process.stderr.write(`[bench] uncaught: ${err.stack ?? String(err)}\n`);
    killAllNow();
    process.exit(1);
  });
  process.on('unhandledRejection', (err) => {
    process.stderr.write(`[bench] unhandled rejection: ${err instanceof Error ? err.stack : String(err)}\n`);
    killAllNow();
    process.exit(1);
  });
}

/**
 * A port on 127.0.0.1 that was free a moment ago. Ports handed out in this process are never
 * handed out twice, so subjects and backends started together cannot collide with each other.
 */
const handedOut = new Set();
export async function freePort() {
  for (let i = 0; i < 50; i++) {
    const port = await new Promise((resolve, reject) => {
      const srv = net.createServer();
      srv.once('error', reject);
      srv.listen(0, '127.0.0.1', () => {
        const addr = srv.address();
        const p = typeof addr === 'object' && addr ? addr.port : 0;
        srv.close(() => resolve(p));
      });
    });
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return /** @type {number} */ (port);
    }
  }
  throw new Error('no free port found on 127.0.0.1');
}

/** Resolves true if something accepts a TCP connection on 127.0.0.1:port right now. */
export function portAnswers(port, timeoutMs = 500) {
  return new Promise((resolve) => {
    const sock = net.connect({ port, host: '127.0.0.1' });
    const done = (/** @type {boolean} */ ok) => {
      clearTimeout(timer);
      sock.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

/** Resolves true if 127.0.0.1:port can be bound (nothing listens there any more). */
export function portIsFree(port) {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/**
 * Whether a socket on this machine listens on TCP `port` (any local address), read from
 * /proc/net/tcp{,6} so that checking never opens a connection: iperf3, for one, counts every
 * connection to its port as a test.
 */
export function isListening(/** @type {number} */ port) {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n')) {
      const f = line.trim().split(/\s+/);
      // f[1] local address "0100007F:1F90", f[3] state ("0A" is LISTEN)
      if (f[3] === '0A' && f[1]?.endsWith(`:${hex}`)) return true;
    }
  }
  return false;
}

/**
 * Waits until something listens on `port`. Rejects with the reason if `proc` exits first or the
 * time runs out; the reason carries the end of the process's output.
 * @param {number} port
 * @param {{proc?: Proc, timeoutMs?: number}} [opts]
 */
export async function waitForPort(port, opts = {}) {
  const { proc, timeoutMs = 5000 } = opts;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc?.exit) {
      const how = proc.exit.signal ? `signal ${proc.exit.signal}` : `code ${proc.exit.code}`;
      throw new Error(`${proc.name} exited (${how}) before listening on ${port}${tail(proc)}`);
    }
    if (isListening(port)) return;
    await sleep(20);
  }
  throw new Error(`${proc?.name ?? 'nothing'} did not listen on 127.0.0.1:${port} within ${timeoutMs} ms${proc ? tail(proc) : ''}`);
}

/** The last line the process printed, without an Envoy-style log prefix, for error messages. */
function tail(/** @type {Proc} */ proc) {
  const lines = proc.output().trim().split('\n').filter(Boolean);
  const last = lines.at(-1)?.replace(/^(\[[^\]]*\])+\s*/, '');
  return last ? `: ${last.slice(0, 240)}` : '';
}

/**
 * Runs a command to completion (a load generator), killing its group if it outlives `timeoutMs`.
 * @param {string} cmd
 * @param {string[]} args
 * @param {number} timeoutMs
 * @returns {Promise<{code: number|null, stdout: string, stderr: string, timedOut: boolean}>}
 */
export function runCommand(cmd, args, timeoutMs) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const pid = child.pid ?? -1;
    /** @type {Proc} */
    const entry = {
      name: cmd,
      pid,
      child,
      exit: undefined,
      output: () => '',
      exited: new Promise((res) => {
        child.once('exit', (code, signal) => res((entry.exit = { code, signal })));
        child.once('error', () => res((entry.exit = { code: 127, signal: null })));
      }),
    };
    if (pid > 0) live.set(pid, entry);
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout?.on('data', (d) => (stdout += d));
    child.stderr?.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      timedOut = true;
      if (pid > 0) signalGroup(pid, 'SIGKILL');
    }, timeoutMs);
    const finish = (/** @type {number|null} */ code) => {
      clearTimeout(timer);
      if (pid > 0) {
        signalGroup(pid, 'SIGKILL'); // anything it left behind in its group
        live.delete(pid);
      }
      resolve({ code, stdout, stderr, timedOut });
    };
    child.once('error', (err) => {
      stderr += err.message;
      finish(127);
    });
    child.once('close', (code) => finish(code));
  });
}
