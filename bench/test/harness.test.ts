// The harness starts and stops its subjects cleanly: a subject answers on its port while it runs,
// and once stopped no process of its group is left (checked by PID) and its port can be bound
// again. A leaked process fails these tests.
import net from 'node:net';
import tls from 'node:tls';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '@il/config';
import { waitFor } from '../../test-support/wait.js';
import { groupMembers, liveGroups, portAnswers, portIsFree, startProcess, stopProcess, waitForPort } from '../lib/proc.mjs';
import { startBackend, subject } from '../lib/subjects.mjs';
import * as configs from '../lib/configs.mjs';
import { benchCerts } from '../lib/certs.mjs';
import { tlsHandshakes, tlsPush } from '../lib/loadgen.mjs';
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

/**
 * One HTTPS GET, TLS 1.3 with the bench cipher only, certificate checked against the bench CA;
 * resolves what came back at the server's close, or once it matches `until`.
 */
function httpsGet(port: number, until?: RegExp): Promise<{ version: string | null; cipher: string; text: string }> {
  return new Promise((resolve, reject) => {
    const sock = tls.connect({
      port,
      host: '127.0.0.1',
      ca: readFileSync(benchCerts().ca),
      checkServerIdentity: () => undefined,
      minVersion: 'TLSv1.3',
      ciphers: configs.TLS13_CIPHER,
    });
    let text = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no HTTPS answer on ${port} within 5 s (got ${JSON.stringify(text)})`));
    }, 5000);
    sock.once('secureConnect', () => sock.write('GET / HTTP/1.1\r\nhost: bench\r\nconnection: close\r\n\r\n'));
    const done = () => {
      clearTimeout(timer);
      resolve({ version: sock.getProtocol(), cipher: sock.getCipher().standardName, text });
      sock.destroy();
    };
    sock.on('data', (d: Buffer) => {
      text += d.toString();
      if (until?.test(text)) done();
    });
    sock.once('end', done);
    sock.once('error', (err: Error) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

describe('bench harness: the TLS section (issue #14)', () => {
  it('pushes bytes through every TLS TcpProxy subject into the TLS sink, TLS 1.3 TLS_AES_128_GCM_SHA256 on both legs', async () => {
    const backend = context();
    await startBackend('tls', backend);
    started.push(...backend.procs);
    const ports: number[] = [];
    const procs: Proc[] = [];
    for (const id of ['direct-tls', 'haproxy-tls-tcp', 'haproxy-tls-tcp-128k', 'node-tls-relay', 'il-tls-tcp']) {
      const ctx = context();
      ctx.backendPort = backend.backendPort;
      const port = await subject(id).start(ctx);
      started.push(...ctx.procs);
      // tlsPush fails unless the client's and the sink's legs both negotiated TLS 1.3 with the bench cipher.
      const r = await tlsPush({ port, seconds: 0.6, omit: 0 });
      expect(r.throughput, `${id} Gbit/s`).toBeGreaterThan(0);
      expect(r.units, `${id} bytes at the sink`).toBeGreaterThan(0);
      if (id !== 'direct-tls') ports.push(port);
      procs.push(...ctx.procs);
    }
    await stopAndAssertGone([...procs, ...backend.procs], [...ports, backend.backendPort]);
    expect(liveGroups()).toEqual([]);
  });

  it('answers HTTPS and completes full handshakes on every handshake subject: nginx, HAProxy, bare Node, il-proxy', async () => {
    const ports: number[] = [];
    const procs: Proc[] = [];
    for (const id of ['nginx-tls', 'haproxy-tls-http', 'node-tls-server', 'il-tls-hcm']) {
      const ctx = context();
      const port = await subject(id).start(ctx);
      started.push(...ctx.procs);
      // The bare Node server is the TLS sink: it answers a first byte with its leg's version and cipher.
      const sink = id === 'node-tls-server';
      const got = await httpsGet(port, sink ? /\n/ : undefined);
      expect([got.version, got.cipher], id).toEqual(['TLSv1.3', configs.TLS13_CIPHER]);
      if (sink) expect(JSON.parse(got.text.split('\n')[0] ?? '')).toEqual({ version: 'TLSv1.3', cipher: configs.TLS13_CIPHER });
      else expect(got.text, id).toMatch(/^HTTP\/1\.1 200[\s\S]*Hello, world!$/);
      const r = await tlsHandshakes({ port, seconds: 1, clients: 1 });
      expect(r.units, `${id} handshakes`).toBeGreaterThan(0);
      ports.push(port);
      procs.push(...ctx.procs);
    }
    await stopAndAssertGone(procs, ports);
    expect(liveGroups()).toEqual([]);
  });

  it('carries bytes through the HBONE pair (examples/hbone, ports remapped), in plaintext too, and through the bare Node mTLS tunnel', async () => {
    const backend = context();
    await startBackend('echo', backend);
    started.push(...backend.procs);
    const ids = ['il-hbone', 'il-hbone-plaintext', 'node-h2-tunnel-mtls'];
    const { ports, procs, processCounts } = await startEchoing(ids, backend.backendPort);
    for (const id of ids) expect(processCounts.get(id), id).toBe(2);
    await stopAndAssertGone([...procs, ...backend.procs], [...ports, backend.backendPort]);
  });

  it('generates TLS il-proxy configs, and the HBONE example remapped, that @il/config accepts', () => {
    const certs = benchCerts();
    const ports = new Map([15000, 15001, 15008, 15020, 8080].map((p, i) => [p, 20000 + i]));
    const all: Record<string, string> = {
      tlsTcp: configs.ilTlsTcpProxyConfig({ port: 10000, backendPort: 10001, certs }),
      tlsHcm: configs.ilTlsHcmConfig({ port: 10000, certs }),
      ...configs.hboneConfigs({ certDir: certs.dir, ports }),
    };
    const hbone = configs.hboneConfigs({ certDir: certs.dir, ports });
    all.clientPlaintext = configs.withoutTransportSockets(hbone.client);
    all.serverPlaintext = configs.withoutTransportSockets(hbone.server);
    expect(all.serverPlaintext).not.toContain('transport_socket');
    expect(all.serverPlaintext).toContain('connect_terminate');
    for (const [name, text] of Object.entries(all)) {
      const { warnings } = loadConfig({ name: `${name}.yaml`, text });
      expect(warnings, name).toEqual([]);
      expect(text, name).not.toMatch(/port_value: (15000|15001|15008|15020|8080)\b/);
    }
  });
});
