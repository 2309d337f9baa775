// Envoy's user-space socket tests (envoy-behavior.md §7.1 io_handle_impl_test.cc and §7.3
// client_connection_factory_test.cc), translated to the stream API. Each test is named after the
// Envoy test it mirrors; cases about raw syscalls (recv flags, readv slices, mmsg, ioctl) have no
// stream equivalent and are covered by the behavior they protect instead.
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import {
  FilterState,
  INTERNAL_CLIENT_ADDRESS,
  InternalListenerRegistry,
  PassthroughState,
  dial,
  type InternalSocket,
} from '../src/index.js';
import { errorOf, pairFactory, readAll, turns, whenClosed } from './helpers.js';

describe('IoHandleImplTest (envoy io_handle_impl_test.cc)', () => {
  it('BasicRecv: 10 bytes written by the peer arrive, then EOF after the peer shuts down', async () => {
    const { connect } = pairFactory();
    const { client, server } = await connect();
    client.write('0123456789');
    const [chunk] = (await once(server, 'data')) as [Buffer];
    expect(chunk.toString()).toBe('0123456789');
    client.end();
    await once(server, 'end');
  });

  it('ReadEmpty: nothing is readable before the peer writes; EOF once it shuts down', async () => {
    const { connect } = pairFactory();
    const { client, server } = await connect();
    await turns(3);
    expect(server.read()).toBeNull();
    client.end();
    expect((await readAll(server)).length).toBe(0);
  });

  it('ReadContent: reads drain the receive buffer in order (3 bytes, then the other 4)', async () => {
    const { connect } = pairFactory();
    const { client, server } = await connect();
    client.write('abcdefg');
    await once(server, 'readable');
    expect((server.read(3) as Buffer).toString()).toBe('abc');
    expect((server.read() as Buffer).toString()).toBe('defg');
    expect(server.receiveBufferBytes).toBe(0);
  });

  it('FlowControl: past the high watermark the writer is told to wait, and drain comes exactly once', async () => {
    const { connect } = pairFactory({ bufferSizeBytes: 1024 });
    const { client, server } = await connect();
    let drains = 0;
    client.on('drain', () => drains++);
    expect(client.write(Buffer.alloc(512))).toBe(true);
    expect(client.write(Buffer.alloc(512))).toBe(true); // exactly at H: not above it
    expect(client.write(Buffer.alloc(1024))).toBe(false);
    await turns(3);
    expect(server.receiveBufferBytes).toBeGreaterThan(1024);
    // Draining 32 bytes at a time flips the writer back exactly once.
    while (server.read(32) !== null) await turns(1);
    await turns(3);
    expect(drains).toBe(1);
    expect(client.write(Buffer.alloc(1))).toBe(true);
  });

  it('DrainToLowWaterMarkTriggerReadEvent: the held writer resumes only at or below half the buffer', async () => {
    const { connect } = pairFactory({ bufferSizeBytes: 2048 });
    const { client, server } = await connect();
    let drained = false;
    client.on('drain', () => (drained = true));
    expect(client.write(Buffer.alloc(4096))).toBe(false);
    await turns(3);
    const buffered = server.receiveBufferBytes;
    expect(buffered).toBeGreaterThan(2048);
    server.read(1);
    await turns(3);
    expect(drained).toBe(false);
    // Down to the low watermark (1024): now the writer goes on.
    server.read(server.receiveBufferBytes - 1024 - 1);
    await turns(3);
    expect(drained).toBe(false);
    server.read(1);
    await turns(3);
    expect(server.receiveBufferBytes).toBe(1024);
    expect(drained).toBe(true);
  });

  it('PartialWrite: a write fills the peer to H, then moves at most one 16 KiB fragment past it', async () => {
    const registry = new InternalListenerRegistry({ bufferSizeBytes: 16 * 1024 + 1 });
    let server: InternalSocket | undefined;
    registry.listen('p', (s) => (server = s));
    const client = registry.connect({ serverListenerName: 'p' });
    await once(client, 'connect');
    const payload = Buffer.alloc(64 * 1024, 7);
    expect(client.write(payload)).toBe(false);
    if (server === undefined) throw new Error('not accepted');
    // 16 KiB + 1 fills exactly to H (still writable), the next 16 KiB crosses it, then it waits.
    expect(server.receiveBufferBytes).toBe(16 * 1024 + 1 + 16 * 1024);
    expect(client.pendingWriteBytes).toBe(64 * 1024 - (32 * 1024 + 1));
    const all = readAll(server);
    client.end();
    expect((await all).equals(payload)).toBe(true);
  });

  it('WriteAgain: a write to a peer above its high watermark is held, not lost', async () => {
    const { connect } = pairFactory({ bufferSizeBytes: 1024 });
    const { client, server } = await connect();
    expect(client.write(Buffer.alloc(2048, 1))).toBe(false);
    expect(client.write(Buffer.alloc(10, 2))).toBe(false);
    client.end();
    const received = await readAll(server);
    expect(received.length).toBe(2058);
    expect(received.subarray(2048).every((b) => b === 2)).toBe(true);
  });

  it('WriteErrorAfterShutdown: writing after our own shutdown fails and the data is not sent', async () => {
    const { connect } = pairFactory();
    const { client, server } = await connect();
    const received: Buffer[] = [];
    server.on('data', (d: Buffer) => received.push(d));
    server.on('error', () => undefined);
    client.end('last');
    client.on('error', () => undefined); // Writable also reports it as an 'error' event
    const serverClosed = whenClosed(server);
    const error = await new Promise<Error | null | undefined>((resolve) => client.write('more', resolve));
    expect((error as NodeJS.ErrnoException).code).toBe('ERR_STREAM_WRITE_AFTER_END');
    await serverClosed;
    expect(Buffer.concat(received).toString()).not.toContain('more');
  });

  it('WriteErrorAfterClose: once the peer closed, our write fails with EPIPE while we stay open', async () => {
    const { connect } = pairFactory({ allowHalfOpen: true });
    const { client, server } = await connect();
    server.destroy();
    client.resume();
    await once(client, 'end');
    expect(client.destroyed).toBe(false);
    const failed = errorOf(client);
    client.write('x');
    expect((await failed).code).toBe('EPIPE');
  });

  it('WritevToPeer: corked writes, empty ones included, arrive in order as "012"', async () => {
    const { connect } = pairFactory();
    const { client, server } = await connect();
    client.cork();
    client.write('0');
    client.write(Buffer.alloc(0));
    client.write('1');
    client.write('2');
    client.uncork();
    client.end();
    expect((await readAll(server)).toString()).toBe('012');
  });

  it('PartialWritev: corked writes past H are taken slice by slice and the rest after the peer drains', async () => {
    const { connect } = pairFactory({ bufferSizeBytes: 1024 });
    const { client, server } = await connect();
    client.cork();
    const slices = [Buffer.alloc(1, 1), Buffer.alloc(2047, 2), Buffer.alloc(3, 3)];
    for (const s of slices) client.write(s);
    client.uncork();
    await turns(2);
    expect(server.receiveBufferBytes).toBeLessThanOrEqual(1024 + 16 * 1024);
    expect(client.pendingWriteBytes).toBeGreaterThan(0);
    client.end();
    expect((await readAll(server)).equals(Buffer.concat(slices))).toBe(true);
  });

  it('RepeatedShutdownWR: ending twice is harmless', async () => {
    const { connect } = pairFactory();
    const { client, server } = await connect();
    client.end();
    client.end();
    client.resume();
    const clientClosed = whenClosed(client);
    await readAll(server);
    await clientClosed;
    expect(client.errored).toBeNull();
  });

  it('ShutDownRaiseEvent: the peer shutting down delivers its data, then EOF', async () => {
    const { connect } = pairFactory();
    const { client, server } = await connect();
    client.end('0123456789');
    expect((await readAll(server)).toString()).toBe('0123456789');
  });

  it('ReadAfterShutdownWrite: the side that shut down its writes can still receive', async () => {
    const { connect } = pairFactory({ allowHalfOpen: true });
    const { client, server } = await connect();
    client.end();
    await readAll(server);
    server.end('still flowing back');
    expect((await readAll(client)).toString()).toBe('still flowing back');
  });

  it('NotifyWritableAfterShutdownWrite: 256 bytes pending at shutdown are all read, then EOF', async () => {
    const { connect } = pairFactory();
    const { client, server } = await connect();
    client.end(Buffer.alloc(256, 9));
    const data = await readAll(server);
    expect(data.length).toBe(256);
  });

  it('Close: the reader gets the 4 bytes sent before close, then EOF; the closed side hears nothing more', async () => {
    const { connect } = pairFactory();
    const { client, server } = await connect();
    const afterClose: string[] = [];
    client.write('abcd');
    client.destroy();
    client.on('data', () => afterClose.push('data'));
    client.on('end', () => afterClose.push('end'));
    server.write('ignored');
    expect((await readAll(server)).toString()).toBe('abcd');
    await turns(3);
    expect(afterClose).toEqual([]);
  });

  it('EventCallbackIsNotInvokedIfHandleIsClosed: a delivery already scheduled never fires after close', async () => {
    const { connect } = pairFactory();
    const { client, server } = await connect();
    const events: string[] = [];
    server.on('data', () => events.push('data'));
    server.on('end', () => events.push('end'));
    server.on('error', () => events.push('error'));
    client.write('scheduled for the next turn');
    server.destroy(); // before that turn
    await turns(4);
    expect(events).toEqual([]);
  });

  it('ReturnValidInternalAddress: both ends report Envoy internal addresses, not IPs or pipes', async () => {
    const registry = new InternalListenerRegistry();
    let server: InternalSocket | undefined;
    registry.listen('listener_a', (s) => (server = s));
    const client = registry.connect({ serverListenerName: 'listener_a', endpointId: '10.0.0.1:80' });
    await once(client, 'connect');
    expect(client.localAddress).toBe(INTERNAL_CLIENT_ADDRESS);
    expect(client.remoteAddress).toBe('envoy://listener_a/10.0.0.1:80');
    expect(server?.localAddress).toBe('envoy://listener_a/10.0.0.1:80');
    expect(server?.remoteAddress).toBe('envoy://internal_client_address/');
    expect(client.remotePort).toBeUndefined();
    expect(client.address()).toEqual({ address: INTERNAL_CLIENT_ADDRESS, family: 'internal', port: 0 });
    client.destroy();
  });

  it('Connect: connecting until the listener accepts, then connected; a peer shutdown is not an error', async () => {
    const { registry } = pairFactory();
    const client = registry.connect({ serverListenerName: 'test' });
    expect(client.connecting).toBe(true);
    expect(client.pending).toBe(true);
    expect(client.readyState).toBe('opening');
    await once(client, 'connect');
    expect(client.connecting).toBe(false);
    expect(client.readyState).toBe('open');
    client.destroy();
  });

  it('ConnectToClosedIoHandle: connecting to a listener that went away fails with ECONNREFUSED', async () => {
    const registry = new InternalListenerRegistry();
    const listener = registry.listen('gone', () => undefined);
    listener.close();
    const client = registry.connect({ serverListenerName: 'gone' });
    const error = await errorOf(client);
    expect(error.code).toBe('ECONNREFUSED');
    expect(error.message).toContain("no internal listener named 'gone'");
  });

  it('PassthroughState: metadata and shared filter state set by the connecting side reach the accepting side', async () => {
    const registry = new InternalListenerRegistry();
    let server: InternalSocket | undefined;
    registry.listen('p', (s) => (server = s));
    const downstream = new FilterState();
    downstream.set('object_key', 'object_value', { sharing: 'transitive' });
    downstream.set('private_key', 'stays', { sharing: 'none' });
    const passthroughState = PassthroughState.capture({
      metadata: { 'envoy.test': { key: 'val' } },
      filterState: downstream,
    });
    const client = registry.connect({ serverListenerName: 'p' }, { passthroughState });
    await once(client, 'connect');
    const filterState = new FilterState();
    const metadata = {};
    server?.passthroughState?.mergeInto(filterState, metadata);
    expect(metadata).toEqual({ 'envoy.test': { key: 'val' } });
    expect(filterState.get('object_key')).toBe('object_value');
    expect(filterState.has('private_key')).toBe(false);
    client.destroy();
  });
});

describe('ClientConnectionFactoryTest (envoy client_connection_factory_test.cc)', () => {
  it('ConnectFailsIfInternalConnectionThreadLocalRegistryIsNotPublished: no registry fails asynchronously', async () => {
    const socket = dial({ envoy_internal_address: { server_listener_name: 'x', endpoint_id: '' } });
    expect(socket.connecting).toBe(true);
    const error = await new Promise<NodeJS.ErrnoException>((resolve) => socket.once('error', resolve));
    expect(error.code).toBe('ECONNREFUSED');
    expect(error.message).toContain('envoy.bootstrap.internal_listener');
  });

  it('ConnectFailsIfInternalListenerNotExist: an unknown name never throws and fails on a later turn', async () => {
    const registry = new InternalListenerRegistry();
    let failedSynchronously = false;
    const client = registry.connect({ serverListenerName: 'missing' });
    const closed = new Promise((resolve) => client.once('close', resolve));
    client.once('error', () => (failedSynchronously = true));
    expect(failedSynchronously).toBe(false);
    expect(client.connecting).toBe(true);
    const error = await new Promise<NodeJS.ErrnoException>((resolve) => {
      if (client.errored) resolve(client.errored);
      else client.once('error', resolve);
    });
    expect(error.code).toBe('ECONNREFUSED');
    expect(error.message).toBe("connect ECONNREFUSED envoy://missing/: no internal listener named 'missing'");
    await closed;
  });

  it('ConnectSucceeds: the listener gets the server side, the client connects one turn later, 10 bytes arrive', async () => {
    const registry = new InternalListenerRegistry();
    const order: string[] = [];
    const received = new Promise<Buffer>((resolve) => {
      registry.listen('l', (server) => {
        order.push('accepted');
        server.once('data', resolve);
      });
    });
    const client = registry.connect({ serverListenerName: 'l' });
    client.on('connect', () => order.push('connect'));
    client.on('ready', () => order.push('ready'));
    client.write('0123456789');
    expect(order).toEqual([]);
    expect((await received).length).toBe(10);
    expect(order).toEqual(['accepted', 'connect', 'ready']);
    client.destroy();
  });
});
