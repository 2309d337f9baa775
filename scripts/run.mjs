#!/usr/bin/env node
// The one entry point behind `npm start`, `npm test`, `npm run bench` and `npm run test:envoy-compat`.
// On a fresh machine it provides pnpm (through corepack), installs the workspace, installs the
// Debian programs the tests talk to (when it may), builds, then runs the task. Later runs skip
// whatever is already in place, so it costs a second when nothing changed.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const [task = 'test', ...rest] = process.argv.slice(2);

/** Debian packages whose programs the test suite runs as real peers. */
const TEST_PEERS = [
  { bin: 'curl', pkg: 'curl' },
  { bin: 'socat', pkg: 'socat' },
  { bin: 'nghttp', pkg: 'nghttp2-client' },
  { bin: 'h2load', pkg: 'nghttp2-client' },
  { bin: 'nghttpx', pkg: 'nghttp2-proxy' },
  { bin: 'openssl', pkg: 'openssl' },
  { bin: 'squid', pkg: 'squid' },
  { bin: 'haproxy', pkg: 'haproxy' },
  { python: 'h2', pkg: 'python3-h2' },
];
/** Extra programs the benchmarks compare against or drive load with. */
const BENCH_PEERS = [
  { bin: 'iperf3', pkg: 'iperf3' },
  { bin: 'wrk', pkg: 'wrk' },
  { bin: 'nginx', pkg: 'nginx-light' },
  // nginx's stream module has no program of its own: the path is found as /usr/sbin/../lib/...
  { bin: '../lib/nginx/modules/ngx_stream_module.so', pkg: 'libnginx-mod-stream' },
];

function log(msg) {
  process.stderr.write(`[il] ${msg}\n`);
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, env: process.env, ...opts });
  if (r.error) return { status: 127, error: r.error };
  return { status: r.status ?? 1 };
}

function have(bin) {
  const r = spawnSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore', env: process.env });
  return r.status === 0;
}

function havePeer(peer) {
  if (peer.python) {
    const r = spawnSync('/usr/bin/python3', ['-c', `import ${peer.python}`], { stdio: 'ignore' });
    return r.status === 0;
  }
  return have(peer.bin) || existsSync(`/usr/sbin/${peer.bin}`) || existsSync(`/usr/bin/${peer.bin}`);
}

function ensureNode() {
  const [major, minor] = process.versions.node.split('.').map(Number);
  if (major < 20 || (major === 20 && minor < 19)) {
    log(`Node ${process.versions.node} is too old: il needs Node >= 20.19.`);
    process.exit(1);
  }
}

/** Makes `pnpm` callable by every child: the one on PATH, or corepack's behind a small shim. */
function ensurePnpm() {
  const wanted = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).packageManager;
  const onPath = spawnSync('pnpm', ['--version'], { encoding: 'utf8', env: process.env });
  if (onPath.status === 0 && `pnpm@${onPath.stdout.trim()}` === wanted) return;
  const shimDir = join(root, '.cache', 'bin');
  const env = { ...process.env, COREPACK_ENABLE_DOWNLOAD_PROMPT: '0' };
  let probe = spawnSync('corepack', [wanted, '--version'], { encoding: 'utf8', env });
  let integrity = '';
  if (probe.status !== 0 && /signature/i.test(probe.stderr ?? '')) {
    // Some machines carry a corepack whose npm signing keys are out of date.
    log('corepack could not verify the pnpm signature with its bundled keys; retrying with COREPACK_INTEGRITY_KEYS=0');
    integrity = 'COREPACK_INTEGRITY_KEYS=0 ';
    probe = spawnSync('corepack', [wanted, '--version'], { encoding: 'utf8', env: { ...env, COREPACK_INTEGRITY_KEYS: '0' } });
  }
  if (probe.status !== 0) {
    log(`could not get ${wanted} through corepack:\n${probe.stderr ?? probe.error}`);
    process.exit(1);
  }
  mkdirSync(shimDir, { recursive: true });
  const shim = join(shimDir, 'pnpm');
  writeFileSync(shim, `#!/bin/sh\nCOREPACK_ENABLE_DOWNLOAD_PROMPT=0 ${integrity}exec corepack ${wanted} "$@"\n`);
  chmodSync(shim, 0o755);
  process.env.PATH = `${shimDir}:${process.env.PATH}`;
}

function ensureInstall() {
  const marker = join(root, 'node_modules', '.pnpm', 'lock.yaml');
  const lock = join(root, 'pnpm-lock.yaml');
  const fresh = existsSync(marker) && (!existsSync(lock) || statSync(marker).mtimeMs >= statSync(lock).mtimeMs);
  if (fresh) return;
  log('installing the workspace (pnpm install)');
  const args = existsSync(lock) ? ['install', '--frozen-lockfile'] : ['install'];
  if (run('pnpm', args).status !== 0) {
    log('pnpm install failed');
    process.exit(1);
  }
}

function ensurePeers(peers) {
  const missing = peers.filter((p) => !havePeer(p));
  if (missing.length === 0) return;
  const pkgs = [...new Set(missing.map((p) => p.pkg))];
  const isRoot = process.getuid?.() === 0;
  if (isRoot && have('apt-get') && process.env.IL_NO_APT !== '1') {
    log(`installing Debian packages the tests use: ${pkgs.join(' ')}`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    run('apt-get', ['update', '-qq'], { env });
    const r = run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...pkgs], { env });
    if (r.status === 0) return;
  }
  log(
    `missing test peers: ${pkgs.join(' ')}. Install them (apt-get install ${pkgs.join(' ')}); ` +
      'the tests that need them will fail with a message naming the missing program.',
  );
}

function build() {
  if (run('pnpm', ['exec', 'turbo', 'run', 'build', '--output-logs=errors-only']).status !== 0) {
    log('build failed');
    process.exit(1);
  }
}

ensureNode();
ensurePnpm();
ensureInstall();

switch (task) {
  case 'setup':
    ensurePeers([...TEST_PEERS, ...BENCH_PEERS]);
    build();
    break;
  case 'test': {
    ensurePeers(TEST_PEERS);
    // Lint and typecheck failures do not stop the tests from running: CI counts the tests either way.
    const checks = run('pnpm', ['exec', 'turbo', 'run', 'lint', 'lint:root', 'typecheck', 'typecheck:root', 'build', '--output-logs=errors-only']);
    if (checks.status !== 0) log('lint, typecheck or build failed (see above)');
    const tests = run('pnpm', ['exec', 'vitest', 'run', ...rest]);
    process.exit(checks.status !== 0 ? checks.status || 1 : tests.status);
    break;
  }
  case 'envoy-compat': {
    ensurePeers(TEST_PEERS);
    build();
    const r = run('pnpm', ['exec', 'vitest', 'run', '--config', 'envoy-compat/vitest.config.ts', ...rest]);
    process.exit(r.status);
    break;
  }
  case 'start': {
    build();
    // Through the launcher: it sets glibc's malloc trim threshold (see apps/proxy/bin/il-proxy).
    const r = run(join(root, 'apps/proxy/bin/il-proxy'), rest);
    process.exit(r.status);
    break;
  }
  case 'bench': {
    ensurePeers([...TEST_PEERS, ...BENCH_PEERS]);
    build();
    const r = run(process.execPath, [join(root, 'bench/run.mjs'), ...rest]);
    process.exit(r.status);
    break;
  }
  default:
    log(`unknown task ${task}; use setup, test, envoy-compat, start or bench`);
    process.exit(2);
}
