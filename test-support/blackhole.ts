import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { requirePeer } from './peers.js';
import { within } from './wait.js';

/**
 * A TCP port on 127.0.0.1 that never completes a handshake: a listener with a full accept
 * queue that is never drained, so further SYNs are dropped and connects hang until they time
 * out (the only "blackhole" a loopback-only test may use). Node cannot leave connections
 * unaccepted, so a tiny python3 process holds the listener.
 */
export async function startBlackhole(): Promise<{ port: number; close: () => void }> {
  const python = requirePeer('python3');
  const child: ChildProcess = spawn(
    python,
    [
      '-c',
      'import socket,sys,time\n' +
        's=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(0)\n' +
        'print(s.getsockname()[1], flush=True)\n' +
        'time.sleep(120)\n',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.stdout?.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
  });
  // Fill the accept queue; these connections complete and are never accepted. A backlog of 0
  // holds one connection: once a filler has connected the queue is full and later SYNs are dropped.
  const fillers: net.Socket[] = [];
  const close = (): void => {
    for (const s of fillers) s.destroy();
    child.kill('SIGKILL');
  };
  const connected: Array<Promise<void>> = [];
  for (let i = 0; i < 4; i++) {
    const s = net.connect(port, '127.0.0.1');
    s.on('error', () => undefined);
    fillers.push(s);
    connected.push(new Promise<void>((resolve) => s.once('connect', () => resolve())));
  }
  try {
    await within(Promise.any(connected), 10_000, 'a connection filling the blackhole accept queue');
  } catch (error) {
    close();
    throw error;
  }
  return { port, close };
}
