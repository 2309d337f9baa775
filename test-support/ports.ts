import net from 'node:net';
import { waitUntil } from './wait.js';

/** Ports this process has handed out, so two calls never return the same one. */
const handedOut = new Set<string>();

/**
 * A TCP port on `host` that was free a moment ago (the kernel picked it). Once the probe closes,
 * the kernel may pick the same port again for the next probe; a test that asks for several ports
 * (a config's listeners and its admin) would then get one twice. So a port is never handed out
 * twice in one process.
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = await probe(host);
    const key = `${host}:${port}`;
    if (!handedOut.has(key)) {
      handedOut.add(key);
      return port;
    }
  }
  throw new Error(`no fresh free port on ${host} after 100 attempts`);
}

async function probe(host: string): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Resolves once something accepts TCP connections on 127.0.0.1:`port` (a peer that was just started). */
export function waitForListening(port: number, what: string, timeoutMs = 15_000): Promise<void> {
  return waitUntil(
    () =>
      new Promise((resolve) => {
        const probe = net.connect(port, '127.0.0.1');
        probe.once('connect', () => {
          probe.destroy();
          resolve(true);
        });
        probe.once('error', () => resolve(false));
      }),
    timeoutMs,
    `${what} to listen`,
  );
}
