/**
 * Envoy's own example configs run through the il-proxy binary, as a user would run them:
 * every one validates, and the ones that only talk to 127.0.0.1 serve with their ports
 * remapped to free ones and behave as Envoy does.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import net from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { MAIN, requireBuild, serve } from '../apps/proxy/test/il-proxy-process.js';

const run = promisify(execFile);
const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const CONFIGS = resolve(process.env.IL_ENVOY_CONFIGS ?? join(REPO_ROOT, '..', 'shared', 'envoy-configs'));

function configFiles(): string[] {
  if (!existsSync(CONFIGS)) {
    throw new Error(`Envoy's example configs are missing: ${CONFIGS} does not exist. Set IL_ENVOY_CONFIGS to the folder holding them (../shared/envoy-configs by default).`);
  }
  const files = readdirSync(CONFIGS).filter((f) => f.endsWith('.yaml')).sort();
  if (files.length === 0) throw new Error(`Envoy's example configs are missing: ${CONFIGS} holds no *.yaml file.`);
  return files;
}

const envoyConfig = (file: string): string => readFileSync(join(CONFIGS, file), 'utf8');

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('il-proxy --mode validate on every Envoy example config', () => {
  requireBuild();
  for (const file of configFiles()) {
    it(`${file} validates`, async () => {
      const { stdout } = await run(process.execPath, [MAIN, '--mode', 'validate', '-c', join(CONFIGS, file)]);
      expect(stdout).toContain(`configuration '${join(CONFIGS, file)}' OK`);
    });
  }
});

describe('il-proxy serving Envoy example configs (ports remapped)', () => {
  it('internal_listener_proxy.yaml: 9999 -> internal listener encap -> 10000 carries bytes both ways', async () => {
    const { ports, cleanup } = await serve(envoyConfig('internal_listener_proxy.yaml'));
    cleanups.push(cleanup);
    const upstream = net.createServer((socket) => socket.pipe(socket));
    await new Promise<void>((done) => upstream.listen(ports.get(10000), '127.0.0.1', done));
    cleanups.push(() => new Promise<void>((done) => upstream.close(() => done())));
    const client = net.connect(ports.get(9999) as number, '127.0.0.1');
    const chunks: Buffer[] = [];
    client.on('data', (d: Buffer) => chunks.push(d));
    client.end('through the internal listener');
    await new Promise((done) => client.once('end', done));
    expect(Buffer.concat(chunks).toString()).toBe('through the internal listener');
    const stats = await (await fetch(`http://127.0.0.1:${ports.get(9904)}/stats`)).text();
    expect(stats).toContain('listener.envoy_internal_encap.downstream_cx_total: 1');
    expect(stats).toContain('tcp.encap.downstream_cx_total: 1');
  });
});
