// Shared helpers for the connection manager tests: a runtime started from a config text (ports
// remapped), Envoy's example configs from disk, raw clients and bounded waits.
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '@il/config';
import { Runtime, Store, type ComponentLog, type DnsResolver } from '@il/core';
import { remapPorts } from '../../../test-support/remap-ports.js';
import { httpConnectionManagerFactory } from '../src/index.js';
import { Arrivals } from '../../../test-support/arrivals.js';
export { readBytes } from '../../../test-support/streams.js';
import { waitFor, waitForStall, within } from '../../../test-support/wait.js';
export { waitFor, waitForStall, within };

export interface RunningProxy {
  runtime: Runtime;
  store: Store;
  /** The free port that replaced an original port of the config. */
  port(original: number): number;
  /** The port a listener is bound to (for configs that bind port 0). */
  listenerPort(name: string): number;
  stat(name: string): number | undefined;
  logs: string[];
  close(): Promise<void>;
}

/** Starts a config in-process with the HTTP connection manager, its ports remapped to free ones. */
export async function startProxy(
  configText: string,
  options: { drainStrategy?: 'gradual' | 'immediate'; remap?: boolean; dnsResolver?: DnsResolver } = {},
): Promise<RunningProxy> {
  const { text, ports } = options.remap === false ? { text: configText, ports: new Map<number, number>() } : await remapPorts(configText);
  const { bootstrap } = loadConfig({ text, name: 'test.yaml' });
  const store = new Store();
  const logs: string[] = [];
  const log = (component: string): ComponentLog => (level, message) => logs.push(`[${level}][${component}] ${message}`);
  const runtime = new Runtime(bootstrap, {
    filterFactories: [httpConnectionManagerFactory()],
    store,
    log,
    drainStrategy: options.drainStrategy ?? 'immediate',
    dnsResolver: options.dnsResolver,
  });
  await runtime.start();
  let closed = false;
  return {
    runtime,
    store,
    port: (original) => {
      const port = ports.get(original);
      if (port === undefined) throw new Error(`port ${original} is not in the config`);
      return port;
    },
    listenerPort: (name) => {
      const port = runtime.listenerManager.port(name);
      if (port === undefined) throw new Error(`no TCP listener named ${name}`);
      return port;
    },
    stat: (name) => store.value(name),
    logs,
    close: async () => {
      if (closed) return;
      closed = true;
      await runtime.shutdown(0);
    },
  };
}

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

export function example(name: string): string {
  return readFileSync(`${repoRoot}examples/${name}`, 'utf8');
}

/**
 * One of Envoy's own example configs, read unmodified from IL_ENVOY_CONFIGS or the shared
 * checkout beside the repository (../shared/envoy-configs).
 */
export function envoyConfig(name: string): string {
  const dir = process.env.IL_ENVOY_CONFIGS ?? `${repoRoot}../shared/envoy-configs`;
  const path = `${dir}/${name}`;
  if (!existsSync(path)) {
    throw new Error(`Envoy's example config ${name} is not at ${path}: set IL_ENVOY_CONFIGS to the folder holding Envoy's configs/ files (see ../shared/envoy-configs/SOURCE.md)`);
  }
  return readFileSync(path, 'utf8');
}

/** A raw TCP client that collects everything it receives. */
export interface RawClient {
  socket: net.Socket;
  received(): Buffer;
  text(): string;
  /** Resolves once the peer closed (end or close), with everything received. */
  closed: Promise<Buffer>;
  waitForText(needle: string, ms?: number): Promise<string>;
}

export function rawClient(port: number, options: { allowHalfOpen?: boolean } = {}): RawClient {
  const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: options.allowHalfOpen ?? false });
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.on('error', () => undefined);
  const closed = new Promise<Buffer>((resolve) => socket.once('close', () => resolve(Buffer.concat(chunks))));
  const received = (): Buffer => Buffer.concat(chunks);
  return {
    socket,
    received,
    text: () => received().toString('latin1'),
    closed,
    waitForText: async (needle, ms = 5000) => {
      await waitFor(() => received().toString('latin1').includes(needle), ms, `'${needle}' from the proxy`);
      return received().toString('latin1');
    },
  };
}

/** A backend HTTP/1.1 server on a free port. */
export async function httpBackend(handler: http.RequestListener): Promise<{ port: number; server: http.Server; close: () => Promise<void> }> {
  const server = http.createServer({ keepAliveTimeout: 60_000 }, handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    server,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A backend HTTP/2 (h2c) server on a free port. */
export async function http2Backend(onStream: (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => void): Promise<{ port: number; close: () => Promise<void> }> {
  const server = http2.createServer();
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (s) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
  });
  server.on('stream', (stream, headers) => {
    stream.on('error', () => undefined);
    onStream(stream, headers);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise((resolve) => {
        for (const s of sessions) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A raw TCP upstream (CONNECT termination target) whose connections are queued for the test. */
export async function tcpUpstream(port = 0): Promise<{ port: number; next: (ms?: number) => Promise<net.Socket>; sockets: net.Socket[]; close: () => Promise<void> }> {
  const sockets = new Arrivals<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    socket.on('error', () => undefined);
    sockets.push(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return {
    port: (server.address() as net.AddressInfo).port,
    sockets: sockets.all,
    next: (ms = 5000) => sockets.next(ms, 'an upstream connection'),
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets.all) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A free port nobody listens on (for connection failures). */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
