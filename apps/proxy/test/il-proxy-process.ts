import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { remapPorts } from '../../../test-support/remap-ports.js';

export const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));
/** The `il-proxy` command (a launcher that sets glibc's malloc trim threshold, then execs node on MAIN). */
export const LAUNCHER = fileURLToPath(new URL('../bin/il-proxy', import.meta.url));

/** il-proxy as a user runs it: `node apps/proxy/dist/main.js ...` (the build must exist). */
export interface IlProxyProcess {
  readonly child: ChildProcessByStdio<null, Readable, Readable>;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (or the signal name). */
  readonly exited: Promise<number | string>;
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<void>;
  stop(signal?: NodeJS.Signals): Promise<number | string>;
}

export function requireBuild(): void {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: build first (pnpm build; npm test builds before testing)`);
}

export function runIlProxy(args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): IlProxyProcess {
  requireBuild();
  const child = spawn(LAUNCHER, [...args], { cwd: options.cwd ?? process.cwd(), stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...options.env } });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  let done = false;
  void exited.then(() => (done = true));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitForOutput: (pattern, timeoutMs = 15_000) =>
      new Promise((resolve, reject) => {
        const deadline = Date.now() + timeoutMs;
        const check = (): void => {
          if (pattern.test(out) || pattern.test(err)) resolve();
          else if (done) reject(new Error(`il-proxy exited before printing ${String(pattern)}\nstdout:\n${out}\nstderr:\n${err}`));
          else if (Date.now() > deadline) reject(new Error(`il-proxy did not print ${String(pattern)} within ${timeoutMs} ms\nstdout:\n${out}\nstderr:\n${err}`));
          else setTimeout(check, 20);
        };
        check();
      }),
    stop: async (signal = 'SIGTERM') => {
      if (!done) child.kill(signal);
      return exited;
    },
  };
}

/** Writes a config (ports remapped to free ones) into a fresh temp dir. */
export async function writeConfig(text: string, options: { remap?: boolean; ports?: Map<number, number> } = {}): Promise<{ path: string; ports: Map<number, number>; dir: string; cleanup: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), 'il-proxy-'));
  const remapped = options.remap === false ? { text, ports: new Map<number, number>() } : await remapPorts(text, options.ports);
  const path = join(dir, 'config.yaml');
  writeFileSync(path, remapped.text);
  return { path, ports: remapped.ports, dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Starts il-proxy on a config and waits until it serves (its main loop line). */
export async function serve(
  text: string,
  extraArgs: readonly string[] = [],
  options: { ports?: Map<number, number>; env?: NodeJS.ProcessEnv } = {},
): Promise<{ proxy: IlProxyProcess; ports: Map<number, number>; dir: string; cleanup: () => Promise<void> }> {
  const config = await writeConfig(text, options.ports === undefined ? {} : { ports: options.ports });
  const proxy = runIlProxy(['-c', config.path, ...extraArgs], options.env === undefined ? {} : { env: options.env });
  await proxy.waitForOutput(/starting main dispatch loop/);
  return {
    proxy,
    ports: config.ports,
    dir: config.dir,
    cleanup: async () => {
      await proxy.stop('SIGKILL');
      config.cleanup();
    },
  };
}

/** One stat of an il-proxy's admin `/stats`, by its full name (0 when it is not there). */
export async function adminStat(adminPort: number, name: string): Promise<number> {
  const exact = `^${name.replace(/\./g, '\\.')}$`;
  const body = await (await fetch(`http://127.0.0.1:${adminPort}/stats?filter=${encodeURIComponent(exact)}`)).text();
  return Number(new RegExp(`^${name.replace(/\./g, '\\.')}: (\\d+)$`, 'm').exec(body)?.[1] ?? 0);
}
