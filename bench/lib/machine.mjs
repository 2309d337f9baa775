// The machine and the versions of everything measured, for BENCHMARKS.md.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { ROOT } from './subjects.mjs';

/** First line of a program's version output that matches `pattern` (stdout or stderr). */
function version(/** @type {string} */ cmd, /** @type {string[]} */ args, /** @type {RegExp} */ pattern) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 5000 });
  if (r.error) return 'not installed';
  const text = `${r.stdout ?? ''}\n${r.stderr ?? ''}`;
  return pattern.exec(text)?.[0]?.trim() ?? (text.trim().split('\n')[0] || 'unknown');
}

function cpuModel() {
  try {
    return /model name\s*:\s*(.+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? os.cpus()[0]?.model ?? 'unknown';
  } catch {
    return os.cpus()[0]?.model ?? 'unknown';
  }
}

export function machineInfo() {
  const git = spawnSync('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' });
  const dirty = spawnSync('git', ['-C', ROOT, 'status', '--porcelain', '--', 'apps', 'packages'], { encoding: 'utf8' });
  const commit = git.status === 0 ? git.stdout.trim() : 'unknown';
  const tree = dirty.stdout?.trim() ? ' plus uncommitted changes in apps/ and packages/' : '';
  const undici = JSON.parse(readFileSync(join(ROOT, 'node_modules/undici/package.json'), 'utf8')).version;
  return {
    cpu: cpuModel(),
    cores: os.availableParallelism(),
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    commit,
    versions: {
      'il-proxy': `apps/proxy/dist as built from commit ${commit}${tree}`,
      HAProxy: version('haproxy', ['-v'], /HAProxy version \S+/),
      nginx: version('nginx', ['-v'], /nginx\/\S+/),
      nghttpx: version('nghttpx', ['--version'], /nghttp2\/\S+/),
      socat: version('socat', ['-V'], /socat version \S+/),
      iperf3: version('iperf3', ['--version'], /iperf \S+/),
      wrk: version('wrk', ['-v'], /wrk \S+/),
      h2load: version('h2load', ['--version'], /nghttp2\/\S+/),
      undici,
    },
  };
}
