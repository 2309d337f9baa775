// What the kernel knows about a test's TCP sockets and processes (Linux /proc).
import { readFileSync } from 'node:fs';

/** TCP state 08 in /proc/net/tcp: the peer sent FIN and the local side never closed. */
const CLOSE_WAIT = '08';

/**
 * Sockets in CLOSE-WAIT whose local or remote port is one of `ports`: connections a proxy was told
 * are over and still holds (a descriptor leak).
 */
export function closeWaitSockets(ports: Iterable<number>): number {
  const wanted = new Set(ports);
  let count = 0;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 4 || fields[3] !== CLOSE_WAIT) continue;
      const localPort = parseInt(fields[1]?.split(':')[1] ?? '', 16);
      const remotePort = parseInt(fields[2]?.split(':')[1] ?? '', 16);
      if (wanted.has(localPort) || wanted.has(remotePort)) count++;
    }
  }
  return count;
}

/** A process's resident memory in MiB: now (VmRSS) and its peak so far (VmHWM). */
export function residentMiB(pid: number): { now: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { now: kib('VmRSS') / 1024, peak: kib('VmHWM') / 1024 };
}
