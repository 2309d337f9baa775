// Every Node networking stack runs over the user-space socket unchanged.
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { Agent, Client, request as undiciRequest } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { InternalListenerRegistry, type InternalSocket } from '../src/index.js';
import { readAll } from './helpers.js';

const fixtures = new URL('./fixtures/', import.meta.url);
const key = readFileSync(new URL('key.pem', fixtures));
const cert = readFileSync(new URL('cert.pem', fixtures));

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

/** An HTTP/1.1 server reachable as internal listener `name`; answers with method, path and body hash. */
function internalHttpServer(registry: InternalListenerRegistry, name: string): { server: http.Server; sockets: Set<InternalSocket> } {
  const server = http.createServer((req, res) => {
    const hash = createHash('sha256');
    req.on('data', (d: Buffer) => hash.update(d));
    req.on('end', () => {
      res.setHeader('x-remote', req.socket.remoteAddress ?? '');
      res.end(`${req.method} ${req.url} ${hash.digest('hex')}`);
    });
  });
  const sockets = new Set<InternalSocket>();
  const listener = registry.listen(name, (socket) => {
    sockets.add(socket);
    server.emit('connection', socket);
  });
  cleanups.push(() => {
    listener.close();
    server.close();
  });
  return { server, sockets };
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

describe('node:http', () => {
  it("serves requests fed through emit('connection') and sent with http.request({ createConnection })", async () => {
    const registry = new InternalListenerRegistry();
    internalHttpServer(registry, 'web');
    const body = randomBytes(3 * 1024 * 1024);
    const req = http.request({
      method: 'POST',
      path: '/upload?x=1',
      headers: { host: 'web.internal' },
      createConnection: () => registry.connect({ serverListenerName: 'web' }),
    });
    req.end(body);
    const [res] = (await once(req, 'response')) as [http.IncomingMessage];
    expect(res.statusCode).toBe(200);
    expect(res.headers['x-remote']).toBe('envoy://internal_client_address/');
    expect((await readAll(res)).toString()).toBe(`POST /upload?x=1 ${sha256(body)}`);
  });

  it('an http.Agent keeps the connection alive and reuses it for sequential requests', async () => {
    const registry = new InternalListenerRegistry();
    const { sockets } = internalHttpServer(registry, 'web');
    class InternalAgent extends http.Agent {
      override createConnection(): Duplex {
        return registry.connect({ serverListenerName: 'web' });
      }
    }
    const agent = new InternalAgent({ keepAlive: true, maxSockets: 1 });
    cleanups.push(() => agent.destroy());
    for (let i = 0; i < 5; i++) {
      const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
        http.get({ agent, path: `/r${i}`, host: 'web' }, resolve).on('error', reject);
      });
      expect((await readAll(res)).toString()).toContain(`GET /r${i}`);
    }
    expect(sockets.size).toBe(1);
  });
});

describe('node:http2', () => {
  it('serves concurrent streams over one internal connection (server fed the socket, client via createConnection)', async () => {
    const registry = new InternalListenerRegistry();
    const server = http2.createServer();
    server.on('stream', (stream, headers) => {
      const hash = createHash('sha256');
      stream.on('data', (d: Buffer) => hash.update(d));
      stream.on('end', () => {
        stream.respond({ ':status': 200 });
        stream.end(`${String(headers[':path'])} ${hash.digest('hex')}`);
      });
    });
    const listener = registry.listen('h2', (socket) => server.emit('connection', socket));
    const session = http2.connect('http://h2.internal', {
      createConnection: () => registry.connect({ serverListenerName: 'h2' }),
      // 13 MiB of request bodies are queued at once; Node's default 10 MB session cap would
      // reset streams (it does the same over TCP).
      maxSessionMemory: 64,
    });
    cleanups.push(() => {
      session.destroy();
      listener.close();
      server.close();
    });
    const bodies = Array.from({ length: 20 }, (_, i) => randomBytes(64 * 1024 * (i + 1)));
    const answers = await Promise.all(
      bodies.map(async (body, i) => {
        const stream = session.request({ ':method': 'POST', ':path': `/s${i}` });
        stream.end(body);
        return (await readAll(stream)).toString();
      }),
    );
    answers.forEach((answer, i) => expect(answer).toBe(`/s${i} ${sha256(bodies[i] as Buffer)}`));
    expect(listener.connectionCount).toBe(1);
  });
});

describe('node:tls', () => {
  it('runs TLS with a TLSSocket on both ends of an internal connection', async () => {
    const registry = new InternalListenerRegistry();
    const received = new Promise<Buffer>((resolve, reject) => {
      // Half-open on both ends: the client's EOF must not end the server's reply direction.
      registry.listen(
        'tls',
        (socket) => {
          const secure = new tls.TLSSocket(socket, { isServer: true, key, cert });
          secure.on('error', reject);
          readAll(secure).then((data) => {
            secure.end(`got ${data.length} bytes`);
            resolve(data);
          }, reject);
        },
        { allowHalfOpen: true },
      );
    });
    const client = tls.connect({
      socket: registry.connect({ serverListenerName: 'tls' }, { allowHalfOpen: true }),
      servername: 'internal.test',
      ca: cert,
    });
    await once(client, 'secureConnect');
    expect(client.authorized).toBe(true);
    const payload = randomBytes(2 * 1024 * 1024);
    client.end(payload);
    const reply = await readAll(client);
    expect(sha256(await received)).toBe(sha256(payload));
    expect(reply.toString()).toBe(`got ${payload.length} bytes`);
  });
});

describe('undici', () => {
  type Connected = (...args: [null, Socket] | [Error, null]) => void;
  function dialer(registry: InternalListenerRegistry, name: string) {
    return (_options: unknown, callback: Connected): void => {
      const socket = registry.connect({ serverListenerName: name });
      // undici's types name net.Socket; it uses only the Duplex + socket surface InternalSocket has.
      socket.once('connect', () => callback(null, socket as unknown as Socket));
      socket.once('error', (error) => callback(error, null));
    };
  }

  it('a Client whose connect dials the registry sends pipelined keep-alive requests', async () => {
    const registry = new InternalListenerRegistry();
    const { sockets } = internalHttpServer(registry, 'api');
    const client = new Client('http://api.internal', { connect: dialer(registry, 'api'), pipelining: 4 });
    cleanups.push(() => void client.destroy());
    const body = randomBytes(512 * 1024);
    const responses = await Promise.all(
      Array.from({ length: 8 }, (_, i) => client.request({ method: 'PUT', path: `/p${i}`, body })),
    );
    for (const [i, response] of responses.entries()) {
      expect(response.statusCode).toBe(200);
      expect(await response.body.text()).toBe(`PUT /p${i} ${sha256(body)}`);
    }
    expect(sockets.size).toBe(1);
  });

  it('an Agent routes by origin to internal listeners', async () => {
    const registry = new InternalListenerRegistry();
    internalHttpServer(registry, 'one');
    internalHttpServer(registry, 'two');
    const agent = new Agent({
      connect: (options, callback) => {
        const name = (options as { hostname: string }).hostname.split('.')[0] ?? '';
        dialer(registry, name)(options, callback);
      },
    });
    cleanups.push(() => void agent.destroy());
    const one = await undiciRequest('http://one.internal/a', { dispatcher: agent });
    const two = await undiciRequest('http://two.internal/b', { dispatcher: agent });
    expect(await one.body.text()).toMatch(/^GET \/a /);
    expect(await two.body.text()).toMatch(/^GET \/b /);
  });

  it('a connection refused by a missing listener surfaces as a request error', async () => {
    const registry = new InternalListenerRegistry();
    const client = new Client('http://nowhere.internal', { connect: dialer(registry, 'nowhere') });
    cleanups.push(() => void client.destroy());
    await expect(client.request({ method: 'GET', path: '/' })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});
