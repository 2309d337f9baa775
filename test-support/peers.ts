import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Debian packages that provide each program the tests drive as a real peer. */
const PACKAGES: Record<string, string> = {
  curl: 'curl',
  socat: 'socat',
  nghttp: 'nghttp2-client',
  h2load: 'nghttp2-client',
  squid: 'squid',
  haproxy: 'haproxy',
  python3: 'python3',
  openssl: 'openssl',
  nghttpx: 'nghttp2-proxy',
  'python3-h2': 'python3-h2',
};

const found = new Map<string, string>();

/**
 * The absolute path of a peer program, or an Error naming the Debian package to install. Tests
 * that need a peer call this first, so a missing peer fails the test with a clear message
 * instead of skipping it.
 */
export function requirePeer(name: string): string {
  const cached = found.get(name);
  if (cached !== undefined) return cached;
  let path: string | undefined;
  if (name === 'python3-h2') {
    // Debian's python3-h2 belongs to the system python, not to a pyenv or venv one on PATH.
    try {
      execFileSync('/usr/bin/python3', ['-c', 'import h2'], { stdio: 'ignore' });
      path = '/usr/bin/python3';
    } catch {
      path = undefined;
    }
  } else if (name === 'python3' && existsSync('/usr/bin/python3')) {
    path = '/usr/bin/python3';
  } else {
    for (const dir of ['/usr/bin', '/usr/sbin', '/usr/local/bin', '/bin', '/sbin']) {
      if (existsSync(`${dir}/${name}`)) {
        path = `${dir}/${name}`;
        break;
      }
    }
  }
  if (path === undefined) {
    const pkg = PACKAGES[name] ?? name;
    throw new Error(
      `This test drives the real program '${name}', which is not installed. ` +
        `Install the Debian package: apt-get install ${pkg} (npm test installs it when run as root).`,
    );
  }
  found.set(name, path);
  return path;
}
