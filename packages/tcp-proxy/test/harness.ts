import { readFileSync } from 'node:fs';
import net from 'node:net';
import { loadConfig } from '@il/config';
import { Runtime, Store, type ComponentLog } from '@il/core';
import { remapPorts } from '../../../test-support/remap-ports.js';
import { tcpProxyFactory } from '../src/index.js';
export { readAll as collect } from '../../../test-support/streams.js';
export { waitFor } from '../../../test-support/wait.js';

export interface RunningProxy {
  runtime: Runtime;
  store: Store;
  /** The free port that replaced an original port of the config. */
  port(original: number): number;
  stat(name: string): number | undefined;
  logs: string[];
  close(): Promise<void>;
}

/** Starts a config in-process with TcpProxy only, its ports remapped to free ones. */
export async function startProxy(configText: string, options: { remap?: boolean } = {}): Promise<RunningProxy> {
  const { text, ports } = options.remap === false ? { text: configText, ports: new Map<number, number>() } : await remapPorts(configText);
  const { bootstrap } = loadConfig({ text, name: 'test.yaml' });
  const store = new Store();
  const logs: string[] = [];
  const log = (component: string): ComponentLog => (level, message) => logs.push(`[${level}][${component}] ${message}`);
  const runtime = new Runtime(bootstrap, { filterFactories: [tcpProxyFactory()], store, log });
  await runtime.start();
  return {
    runtime,
    store,
    port: (original) => {
      const port = ports.get(original);
      if (port === undefined) throw new Error(`port ${original} is not in the config`);
      return port;
    },
    stat: (name) => store.value(name),
    logs,
    close: () => runtime.shutdown(0),
  };
}

export function example(name: string): string {
  return readFileSync(new URL(`../../../examples/${name}`, import.meta.url), 'utf8');
}

/** A TCP server on 127.0.0.1 (allowHalfOpen) whose connections are handed to `onConnection`. */
export async function upstreamServer(onConnection: (socket: net.Socket) => void, port = 0): Promise<{ port: number; sockets: net.Socket[]; close: () => Promise<void> }> {
  const sockets: net.Socket[] = [];
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    sockets.push(socket);
    socket.on('error', () => undefined);
    onConnection(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return {
    port: (server.address() as net.AddressInfo).port,
    sockets,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

