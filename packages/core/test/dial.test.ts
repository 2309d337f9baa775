import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startBlackhole } from '../../../test-support/blackhole.js';
import { addressString, type Address } from '@il/config';
import { InternalListenerRegistry, InternalSocket, dial, hopsOf } from '../src/index.js';
import { readAll } from './helpers.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

async function echoServer(listen: (server: net.Server) => void): Promise<net.Server> {
  const server = net.createServer((socket) => socket.pipe(socket));
  listen(server);
  await once(server, 'listening');
  cleanups.push(() => server.close());
  return server;
}

async function roundTrip(address: Address, registry?: InternalListenerRegistry): Promise<string> {
  const socket = dial(address, { registry });
  socket.end('ping');
  return (await readAll(socket)).toString();
}

describe('dial', () => {
  it('reaches a TCP socket_address', async () => {
    const server = await echoServer((s) => s.listen(0, '127.0.0.1'));
    const { port } = server.address() as net.AddressInfo;
    expect(await roundTrip({ socket_address: { address: '127.0.0.1', port_value: port, protocol: 'TCP', ipv4_compat: false } })).toBe('ping');
  });

  it('reaches an IPv6 socket_address', async () => {
    const server = await echoServer((s) => s.listen(0, '::1'));
    const { port } = server.address() as net.AddressInfo;
    const address: Address = { socket_address: { address: '::1', port_value: port, protocol: 'TCP', ipv4_compat: false } };
    expect(addressString(address)).toBe(`[::1]:${port}`);
    expect(await roundTrip(address)).toBe('ping');
  });

  it('reaches a Unix pipe, by path and in the abstract namespace (@name)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'il-dial-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'echo.sock');
    await echoServer((s) => s.listen(path));
    expect(await roundTrip({ pipe: { path, mode: 0 } })).toBe('ping');
    const abstractName = `il-test-${process.pid}-${Date.now()}`;
    await echoServer((s) => s.listen(`\0${abstractName}`));
    expect(await roundTrip({ pipe: { path: `@${abstractName}`, mode: 0 } })).toBe('ping');
  });

  it('reaches an internal listener through the registry, carrying the hop count', async () => {
    const registry = new InternalListenerRegistry();
    let hops = 0;
    registry.listen('echo', (s) => {
      hops = hopsOf(s);
      s.pipe(s);
    });
    const socket = dial({ envoy_internal_address: { server_listener_name: 'echo', endpoint_id: 'e1' } }, { registry, hops: 2 });
    expect(socket).toBeInstanceOf(InternalSocket);
    expect(socket.remoteAddress).toBe('envoy://echo/e1');
    socket.end('ping');
    expect((await readAll(socket)).toString()).toBe('ping');
    expect(hops).toBe(3);
  });

  it('a refused TCP connection emits ECONNREFUSED and never throws', async () => {
    const server = await echoServer((s) => s.listen(0, '127.0.0.1'));
    const { port } = server.address() as net.AddressInfo;
    server.close();
    await once(server, 'close');
    const socket = dial({ socket_address: { address: '127.0.0.1', port_value: port, protocol: 'TCP', ipv4_compat: false } });
    const [error] = (await once(socket, 'error')) as [NodeJS.ErrnoException];
    expect(error.code).toBe('ECONNREFUSED');
  });

  it('connectTimeoutMs fails a connection to a blackhole with ETIMEDOUT', async () => {
    const blackhole = await startBlackhole();
    cleanups.push(blackhole.close);
    const started = Date.now();
    const socket = dial({ socket_address: { address: '127.0.0.1', port_value: blackhole.port, protocol: 'TCP', ipv4_compat: false } }, { connectTimeoutMs: 200 });
    const [error] = (await once(socket, 'error')) as [NodeJS.ErrnoException];
    expect(error.code).toBe('ETIMEDOUT');
    expect(error.message).toBe(`connect ETIMEDOUT 127.0.0.1:${blackhole.port}: no connection within 200 ms`);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
  });
});
