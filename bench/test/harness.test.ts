// The harness starts and stops its subjects cleanly: a subject answers on its port while it runs,
// and once stopped no process of its group is left (checked by PID) and its port can be bound
// again. A leaked process fails these tests.
import net from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '@il/config';
import { waitFor } from '../../test-support/wait.js';
import { groupMembers, liveGroups, portAnswers, portIsFree, startProcess, stopProcess, waitForPort } from '../lib/proc.mjs';
import { startBackend, subject } from '../lib/subjects.mjs';
import * as configs from '../lib/configs.mjs';
import type { Proc } from '../lib/proc.mjs';
import type { StartContext } from '../lib/subjects.mjs';


const dirs: string[] = [];
const started: Proc[] = [];

function context(): StartContext {
  const dir = mkdtempSync(join(tmpdir(), 'il-bench-test-'));
  dirs.push(dir);
  return { dir, backendPort: 0, backendH2Port: 0, procs: [], commands: [], files: [] };
}

/** Sends `text` through 127.0.0.1:port and resolves what comes back (the backend echoes). */
function roundTrip(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ port, host: '127.0.0.1' });
    let got = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no echo through ${port} within 3 s (got ${JSON.stringify(got)})`));
    }, 3000);
    sock.on('data', (d: Buffer) => {
      got += d.toString();
      if (got.length >= text.length) {
        clearTimeout(timer);
        sock.end();
        resolve(got);
      }
    });
    sock.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    sock.write(text);
  });
}

/** Whether `pid` is a running process (a zombie awaiting its reaper has finished running). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Stops every process, then asserts none of them, nor any member of their groups, is left. */
async function stopAndAssertGone(procs: Proc[], ports: number[]) {
  for (const p of procs) expect(await stopProcess(p)).toBe(true);
  for (const p of procs) {
    expect(groupMembers(p.pid), `${p.name} (pgid ${p.pid}) left processes behind`).toEqual([]);
    expect(alive(p.pid), `${p.name} (pid ${p.pid}) still alive`).toBe(false);
  }
  for (const port of ports) expect(await portIsFree(port), `port ${port} still bound`).toBe(true);
}

/**
 * Starts each subject in front of the echo backend and checks that it answers on its port and
 * echoes a line back; returns the ports and processes to stop, and how many processes each runs.
 */
async function startEchoing(ids: string[], backendPort: number) {
  const ports: number[] = [];
  const procs: Proc[] = [];
  const processCounts = new Map<string, number>();
  for (const id of ids) {
    const ctx = context();
    ctx.backendPort = backendPort;
    const port = await subject(id).start(ctx);
    started.push(...ctx.procs);
    expect(await portAnswers(port), `${id} answers on ${port}`).toBe(true);
    expect(await roundTrip(port, `hello through ${id}`)).toBe(`hello through ${id}`);
    ports.push(port);
    procs.push(...ctx.procs);
    processCounts.set(id, ctx.procs.length);
  }
  return { ports, procs, processCounts };
}

afterEach(async () => {
  // Whatever a failed test left running is stopped here, so one failure does not cascade.
  for (const p of started.splice(0)) await stopProcess(p);
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('bench harness', () => {
  it('starts the Node pipe() proxy and HAProxy in front of a backend, and stops them without a trace', async () => {
    const backend = context();
    await startBackend('echo', backend);
    started.push(...backend.procs);

    const { ports, procs } = await startEchoing(['node-pipe', 'haproxy-tcp'], backend.backendPort);
    await stopAndAssertGone([...procs, ...backend.procs], [...ports, backend.backendPort]);
    expect(liveGroups()).toEqual([]);
  });

  it("carries bytes through the tunnel bench's yardsticks: two HAProxies, two il-proxies, a bare Node HTTP/2 CONNECT tunnel", async () => {
    const backend = context();
    await startBackend('echo', backend);
    started.push(...backend.procs);
    const { ports, procs, processCounts } = await startEchoing(['haproxy-tcp-2proc', 'il-tcp-2proc', 'node-h2-tunnel'], backend.backendPort);
    for (const [id, count] of processCounts) expect(count, `${id} runs two processes`).toBe(2);
    await stopAndAssertGone([...procs, ...backend.procs], [...ports, backend.backendPort]);
  });

  it('stops the whole process group: the per-connection children socat forks go too', async () => {
    const backend = context();
    await startBackend('echo', backend);
    started.push(...backend.procs);
    const ctx = context();
    ctx.backendPort = backend.backendPort;
    const port = await subject('socat').start(ctx);
    started.push(...ctx.procs);

    // Hold a connection open so socat has forked a child for it.
    const held = net.connect({ port, host: '127.0.0.1' });
    held.on('error', () => {});
    await new Promise<void>((resolve) => held.once('connect', () => resolve()));
    const socat = ctx.procs[0];
    if (!socat) throw new Error('socat did not start');
    await waitFor(() => groupMembers(socat.pid).length >= 2, 15_000, 'socat to fork a child for the held connection');
    const members = groupMembers(socat.pid);
    expect(members.length).toBeGreaterThanOrEqual(2);

    await stopAndAssertGone([...ctx.procs, ...backend.procs], [port, backend.backendPort]);
    for (const pid of members) expect(alive(pid), `socat child ${pid} survived`).toBe(false);
    held.destroy();
  });

  it('reports a subject that exits before listening, with its exit and its last words', async () => {
    const proc = startProcess('quitter', process.execPath, ['-e', 'console.error("no listener configured"); process.exit(3)']);
    started.push(proc);
    await expect(waitForPort(65000, { proc, timeoutMs: 5000 })).rejects.toThrow(/quitter exited \(code 3\) before listening on 65000: no listener configured/);
    expect(await stopProcess(proc)).toBe(true);
    expect(groupMembers(proc.pid)).toEqual([]);
  });

  it('generates il-proxy configs that @il/config accepts', () => {
    const p = { port: 10000, backendPort: 10001, decapPort: 10002 };
    const all: Record<string, string> = {
      tcp: configs.ilTcpProxyConfig(p),
      internal: configs.ilInternalChainConfig(p),
      tunnelEncap: configs.ilTunnelEncapConfig(p),
      tunnelDecap: configs.ilTunnelDecapConfig(p),
      hcm: configs.ilHcmConfig(p),
      seedEncap: configs.ilSeedEncapConfig(p),
      seedDecap: configs.ilSeedDecapConfig(p),
    };
    for (const [name, text] of Object.entries(all)) {
      const { warnings } = loadConfig({ name: `${name}.yaml`, text });
      expect(warnings, name).toEqual([]);
    }
  });
});
