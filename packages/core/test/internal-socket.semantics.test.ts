import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { InternalListenerRegistry, type InternalSocket } from '../src/index.js';
import { within } from '../../../test-support/wait.js';
import { errorOf, pairFactory, readAll, turns, whenClosed } from './helpers.js';

describe('half-close', () => {
  it('client shuts down first: the server reads everything, then EOF, and can still answer', async () => {
    const { connect } = pairFactory({ allowHalfOpen: true });
    const { client, server } = await connect();
    client.end('request');
    expect((await readAll(server)).toString()).toBe('request');
    expect(server.writable).toBe(true);
    server.end('response after the client finished');
    expect((await readAll(client)).toString()).toBe('response after the client finished');
    await Promise.all([whenClosed(client), whenClosed(server)]);
    expect(client.errored).toBeNull();
    expect(server.errored).toBeNull();
  });

  it('server shuts down first: the client reads everything, then EOF, and can still send', async () => {
    const { connect } = pairFactory({ allowHalfOpen: true });
    const { client, server } = await connect();
    server.end('greeting');
    expect((await readAll(client)).toString()).toBe('greeting');
    client.end('late upload');
    expect((await readAll(server)).toString()).toBe('late upload');
    await Promise.all([whenClosed(client), whenClosed(server)]);
  });

  it('without allowHalfOpen, reading EOF ends our side too, as net.Socket does', async () => {
    const { connect } = pairFactory({ allowHalfOpen: false });
    const { client, server } = await connect();
    server.resume();
    client.resume();
    client.end();
    await Promise.all([whenClosed(client), whenClosed(server)]);
    expect(server.writableEnded).toBe(true);
  });
});

describe('close and reset, seen from the other side', () => {
  it('destroy() is close: the peer reads what was sent, then EOF, with no error', async () => {
    const { connect } = pairFactory();
    const { client, server } = await connect();
    client.write(Buffer.alloc(100_000, 1));
    client.destroy();
    const data = await readAll(server);
    expect(data.length).toBe(100_000);
    await whenClosed(server);
    expect(server.errored).toBeNull();
  });

  it('destroy(err) is a reset: the peer fails with ECONNRESET', async () => {
    const { connect } = pairFactory();
    const { client, server } = await connect();
    client.on('error', () => undefined);
    const failure = errorOf(server);
    client.destroy(new Error('upstream went away'));
    const error = await failure;
    expect(error.code).toBe('ECONNRESET');
    await whenClosed(server);
  });

  it('resetAndDestroy() resets the peer without an error on our own side', async () => {
    const { connect } = pairFactory();
    const { client, server } = await connect();
    const failure = errorOf(server);
    const ownErrors: Error[] = [];
    client.on('error', (e) => ownErrors.push(e));
    client.resetAndDestroy();
    expect((await failure).code).toBe('ECONNRESET');
    await turns(2);
    expect(ownErrors).toEqual([]);
    expect(client.destroyed).toBe(true);
  });

  it('a reset discards what the peer had not read yet, like a TCP RST', async () => {
    const { connect } = pairFactory();
    const { client, server } = await connect();
    const received: Buffer[] = [];
    client.write('unread');
    client.resetAndDestroy();
    server.on('data', (d: Buffer) => received.push(d));
    await errorOf(server);
    expect(received).toEqual([]);
  });

  it('writes after the peer closed fail with EPIPE, after the peer data was read', async () => {
    const { connect } = pairFactory({ allowHalfOpen: true });
    const { client, server } = await connect();
    server.end('bye');
    server.destroy();
    const failure = errorOf(client);
    // The write is issued before our reader has seen the close: the data still arrives first.
    client.write('too late');
    expect((await readAll(client)).toString()).toBe('bye');
    expect((await failure).code).toBe('EPIPE');
  });

  it('a writer blocked on a full peer learns that the peer closed (Envoy issue #38148)', async () => {
    const { connect } = pairFactory({ bufferSizeBytes: 4096, allowHalfOpen: true });
    const { client, server } = await connect();
    client.resume();
    // The server never reads: the client fills its buffer and is held.
    while (client.write(Buffer.alloc(1024))) {
      /* fill until held */
    }
    const result = new Promise<NodeJS.ErrnoException | null | undefined>((resolve) =>
      client.write(Buffer.alloc(1024), resolve),
    );
    client.on('error', () => undefined);
    server.destroy();
    const error = await result;
    expect(error?.code).toBe('EPIPE');
    await whenClosed(client);
  });

  it('no event fires on a socket after it is destroyed', async () => {
    const { connect } = pairFactory();
    const { client, server } = await connect();
    const events: string[] = [];
    for (const name of ['data', 'end', 'error', 'drain', 'timeout', 'finish']) server.on(name, () => events.push(name));
    server.setTimeout(5);
    client.resume();
    client.write('x');
    client.end();
    server.destroy();
    // The client closing proves the destroy went through the delivery rounds that would carry
    // the data and the end; two more turns let anything still queued behind them run.
    await within(whenClosed(client), 5000, 'the client to close');
    await turns(2);
    // A silence window, not a wait for an event: the 5 ms idle timer was armed before this 30 ms
    // timer, and Node runs expired timers in expiry order, so a stalled loop cannot skip it.
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(events).toEqual([]);
  });
});

describe('setTimeout', () => {
  it("emits 'timeout' after the idle time, and traffic keeps pushing it back", async () => {
    const { connect } = pairFactory();
    const { client, server } = await connect();
    server.resume();
    const start = Date.now();
    let timedOutAt = 0;
    client.setTimeout(100, () => (timedOutAt = Date.now()));
    expect(client.timeout).toBe(100);
    // Keep the connection busy for ~250 ms: no timeout may fire meanwhile. These pauses pace the
    // traffic, they wait for nothing; each 50 ms timer is armed after the write that refreshed the
    // 100 ms idle timer, and Node runs expired timers in expiry order (microtasks between them),
    // so however long the loop stalls, the next write refreshes the idle timer before it is due.
    for (let i = 0; i < 5; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      client.write('tick');
    }
    expect(timedOutAt).toBe(0);
    await once(client, 'timeout');
    expect(Date.now() - start).toBeGreaterThanOrEqual(300);
    expect(client.destroyed).toBe(false); // 'timeout' is advisory, as with net.Socket
    client.setTimeout(0);
    expect(client.timeout).toBe(0);
    client.destroy();
  });

  it('setTimeout(0) disables a pending timeout', async () => {
    const { connect } = pairFactory();
    const { client } = await connect();
    let fired = false;
    client.setTimeout(20, () => (fired = true));
    client.setTimeout(0);
    // A silence window: this 60 ms timer is armed after the 20 ms one would have been, and
    // timers run in expiry order, so a stalled loop cannot end the window before it was due.
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(fired).toBe(false);
    client.destroy();
  });
});

describe('net.Socket surface', () => {
  it('counts bytes both ways and exposes the state that http clients check', async () => {
    const { connect } = pairFactory();
    const { client, server } = await connect();
    expect(client.setNoDelay(true)).toBe(client);
    expect(client.setKeepAlive(true, 1000)).toBe(client);
    expect(client.ref()).toBe(client);
    expect(client.unref()).toBe(client);
    client.write('12345');
    server.write('abc');
    await once(server, 'data');
    await once(client, 'data');
    expect(client.bytesWritten).toBe(5);
    expect(server.bytesRead).toBe(5);
    expect(server.bytesWritten).toBe(3);
    expect(client.bytesRead).toBe(3);
    client.end();
    expect(client.readyState).toBe('readOnly');
    client.destroy();
  });

  it('destroySoon() flushes pending writes, then closes', async () => {
    const { connect } = pairFactory({ bufferSizeBytes: 1024 });
    const { client, server } = await connect();
    client.write(Buffer.alloc(10_000, 5));
    client.destroySoon();
    const data = await readAll(server);
    expect(data.length).toBe(10_000);
    await whenClosed(client);
  });
});

describe('registry', () => {
  it('closing a listener refuses new connections and closes the open ones without error', async () => {
    const registry = new InternalListenerRegistry();
    const servers: InternalSocket[] = [];
    const listener = registry.listen('l', (s) => servers.push(s));
    const clients = [registry.connect({ serverListenerName: 'l' }), registry.connect({ serverListenerName: 'l' })];
    await Promise.all(clients.map((c) => once(c, 'connect')));
    expect(listener.connectionCount).toBe(2);
    const ended = clients.map((c) => readAll(c));
    listener.close();
    expect(registry.size).toBe(0);
    await Promise.all(ended);
    expect(listener.connectionCount).toBe(0);
    const late = registry.connect({ serverListenerName: 'l' });
    expect((await errorOf(late)).code).toBe('ECONNREFUSED');
  });

  it('refuses a second listener with the same name', () => {
    const registry = new InternalListenerRegistry();
    registry.listen('dup', () => undefined);
    expect(() => registry.listen('dup', () => undefined)).toThrow("internal listener 'dup' is already registered");
  });

  it('validates the buffer size like Envoy (1..8192 KiB)', () => {
    expect(() => new InternalListenerRegistry({ bufferSizeBytes: 512 })).toThrow(RangeError);
    expect(() => new InternalListenerRegistry({ bufferSizeBytes: 8193 * 1024 })).toThrow(RangeError);
    expect(new InternalListenerRegistry({ bufferSizeBytes: 8192 * 1024 }).bufferSizeBytes).toBe(8 * 1024 * 1024);
  });

  it('1,000 concurrent connections open, carry data and close with nothing left behind', async () => {
    const registry = new InternalListenerRegistry();
    let peak = 0;
    const listener = registry.listen('echo', (s) => {
      peak = Math.max(peak, listener.connectionCount);
      s.pipe(s);
    });
    const clients = Array.from({ length: 1000 }, (_, i) => {
      const c = registry.connect({ serverListenerName: 'echo', endpointId: String(i) });
      c.end(`message ${i}`);
      return readAll(c).then((data) => ({ i, data: data.toString(), c }));
    });
    const results = await Promise.all(clients);
    expect(peak).toBe(1000); // all were open at once
    for (const { i, data } of results) expect(data).toBe(`message ${i}`);
    await Promise.all(results.map(({ c }) => whenClosed(c)));
    await turns(3);
    expect(listener.connectionCount).toBe(0);
    listener.close();
    expect(registry.size).toBe(0);
  });

  it('a listener that connects back into itself is stopped at the hop limit with ELOOP, not a stack overflow', async () => {
    const registry = new InternalListenerRegistry({ maxHops: 8 });
    let accepted = 0;
    const errors: NodeJS.ErrnoException[] = [];
    registry.listen('loop', (downstream) => {
      accepted++;
      const upstream = registry.connect({ serverListenerName: 'loop' }, { hops: downstream.hops });
      upstream.on('error', (e: NodeJS.ErrnoException) => {
        errors.push(e);
        downstream.destroy();
      });
      upstream.on('close', () => downstream.destroy());
      downstream.on('close', () => upstream.destroy());
      downstream.pipe(upstream);
      upstream.pipe(downstream);
    });
    const client = registry.connect({ serverListenerName: 'loop' });
    client.resume();
    client.write('going round');
    await whenClosed(client);
    expect(accepted).toBe(8);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.code).toBe('ELOOP');
    expect(errors[0]?.message).toContain('limit 8');
  });
});
