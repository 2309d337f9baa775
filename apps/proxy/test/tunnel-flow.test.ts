// The HTTP/2 tunnel never stalls: many tunnels at once on one pooled connection, both directions
// full, between two il-proxies (each a node:http2 peer), in one process, and against a peer that
// stops reading while it writes. Every byte is checked by sha256; memory stays within what the
// HTTP/2 windows allow.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import http2 from 'node:http2';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { echoExchange, echoServer, type EchoExchange } from '../../../test-support/bulk.js';
import { envoyConfig } from '../../../test-support/envoy-configs.js';
import { requirePeer } from '../../../test-support/peers.js';
import { freePort } from '../../../test-support/ports.js';
import { residentMiB } from '../../../test-support/sockets.js';
import { waitUntil, within } from '../../../test-support/wait.js';
import { serve } from './il-proxy-process.js';

const MiB = 1024 * 1024;
const TUNNELS = 16;
const BYTES_EACH_WAY = 64 * MiB;
/**
 * What a proxy may hold while 16 tunnels run: each stream may buffer up to its HTTP/2 window
 * (Envoy's 16 MiB) on the receiving side, plus the process itself (about 60 MiB idle) and GC
 * slack. A proxy that deadlocks never gets here; one that ignores the windows goes far past it.
 */
const RSS_BOUND_MIB = 128 + TUNNELS * 16;

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startEcho(port?: number): Promise<number> {
  const echo = await echoServer(port);
  cleanups.push(echo.close);
  return echo.port;
}

/** `count` echo exchanges of `bytes` each at once; every one must come back whole and in order. */
async function exchanges(port: number, count: number, bytes: number, ms: number): Promise<EchoExchange[]> {
  const results = await within(Promise.all(Array.from({ length: count }, () => echoExchange(port, bytes))), ms, `${count} tunnels of ${bytes / MiB} MiB each way`);
  for (const result of results) {
    expect(result.received).toBe(bytes);
    expect(result.receivedSha256).toBe(result.sentSha256);
  }
  return results;
}

async function adminStat(adminPort: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${adminPort}/stats?filter=${encodeURIComponent(`^${name.replace(/\./g, '\\.')}$`)}`)).text();
  const match = new RegExp(`^${name.replace(/\./g, '\\.')}: (\\d+)$`, 'm').exec(text);
  return match === null ? 0 : Number(match[1]);
}

/**
 * One il-proxy with both halves of a raw-TCP tunnel, laid out as examples/tunnel.yaml: TCP on 10000
 * → internal "encap" (TcpProxy, tunneling_config) → HTTP/2 CONNECT to its own 10001 → HCM
 * (connect_config) → internal "decap" (TcpProxy) → the echo server.
 */
function oneProcessTunnel(echoPort: number): string {
  return `admin:
  address: { socket_address: { address: 127.0.0.1, port_value: 9901 } }
bootstrap_extensions:
- name: envoy.bootstrap.internal_listener
  typed_config:
    "@type": type.googleapis.com/envoy.extensions.bootstrap.internal_listener.v3.InternalListener
static_resources:
  listeners:
  - name: front
    address: { socket_address: { address: 127.0.0.1, port_value: 10000 } }
    filter_chains:
    - filters:
      - name: tcp
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
          stat_prefix: front
          cluster: encap_cluster
  - name: encap
    internal_listener: {}
    filter_chains:
    - filters:
      - name: tcp
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
          stat_prefix: encap
          cluster: tunnel
          tunneling_config: { hostname: host.com:443 }
  - name: connect
    address: { socket_address: { address: 127.0.0.1, port_value: 10001 } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: connect
          http2_protocol_options: { allow_connect: true }
          route_config:
            virtual_hosts:
            - name: tunnels
              domains: ["*"]
              routes:
              - match: { connect_matcher: {} }
                route:
                  cluster: decap_cluster
                  upgrade_configs: [{ upgrade_type: CONNECT, connect_config: {} }]
          http_filters:
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  - name: decap
    internal_listener: {}
    filter_chains:
    - filters:
      - name: tcp
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
          stat_prefix: decap
          cluster: echo
  clusters:
  - name: encap_cluster
    load_assignment:
      cluster_name: encap_cluster
      endpoints: [{ lb_endpoints: [{ endpoint: { address: { envoy_internal_address: { server_listener_name: encap } } } }] }]
  - name: tunnel
    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        explicit_http_config: { http2_protocol_options: {} }
    load_assignment:
      cluster_name: tunnel
      endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: 10001 } } } }] }]
  - name: decap_cluster
    load_assignment:
      cluster_name: decap_cluster
      endpoints: [{ lb_endpoints: [{ endpoint: { address: { envoy_internal_address: { server_listener_name: decap } } } }] }]
  - name: echo
    load_assignment:
      cluster_name: echo
      endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${echoPort} } } } }] }]
`;
}

/** A TcpProxy tunnelling every connection in HTTP/2 CONNECT to 127.0.0.1:`target` via `terminatorPort`. */
function encapTo(terminatorPort: number, target: number, extraHttp2Options = ''): string {
  return `admin:
  address: { socket_address: { address: 127.0.0.1, port_value: 9903 } }
static_resources:
  listeners:
  - name: listener_0
    address: { socket_address: { address: 127.0.0.1, port_value: 10000 } }
    filter_chains:
    - filters:
      - name: tcp
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
          stat_prefix: tcp_stats
          cluster: cluster_0
          tunneling_config: { hostname: "127.0.0.1:${target}" }
  clusters:
  - name: cluster_0
    connect_timeout: 5s
    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        explicit_http_config: { http2_protocol_options: { ${extraHttp2Options} } }
    load_assignment:
      cluster_name: cluster_0
      endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${terminatorPort} } } } }] }]
`;
}

describe('HTTP/2 tunnels keep flowing on a shared connection (TcpTunnelingIntegrationTest, at scale)', () => {
  it("Envoy's encapsulate_in_http2_connect.yaml -> proxy_connect.yaml as two il-proxies: 16 tunnels x 64 MiB each way, sha256-intact, 5 times from fresh processes, each proxy within its memory bound", async () => {
    for (let run = 1; run <= 5; run++) {
      const ports = new Map<number, number>();
      // proxy_connect.yaml sends every terminated CONNECT to 127.0.0.1:10002: the echo server.
      ports.set(10002, await startEcho());
      const decap = await serve(envoyConfig('proxy_connect.yaml'), [], { ports });
      const encap = await serve(envoyConfig('encapsulate_in_http2_connect.yaml'), [], { ports });
      try {
        await exchanges(ports.get(10000) as number, TUNNELS, BYTES_EACH_WAY, 120_000);
        // All of them shared one pooled HTTP/2 connection: the case that deadlocked.
        expect(await adminStat(ports.get(9903) as number, 'cluster.cluster_0.upstream_cx_total')).toBe(1);
        expect(await adminStat(ports.get(9903) as number, 'cluster.cluster_0.upstream_rq_total')).toBe(TUNNELS);
        for (const proxy of [decap.proxy, encap.proxy]) expect(residentMiB(proxy.child.pid as number).peak).toBeLessThan(RSS_BOUND_MIB);
      } finally {
        await encap.cleanup();
        await decap.cleanup();
      }
    }
  }, 600_000);

  it('one process with both halves (the tunnel.yaml topology, two internal listeners): 16 tunnels x 64 MiB each way, sha256-intact', async () => {
    const echoPort = await startEcho();
    // serve() gives every port_value a free port; the echo server's is already one.
    const { proxy, ports, cleanup } = await serve(oneProcessTunnel(echoPort), [], { ports: new Map([[echoPort, echoPort]]) });
    cleanups.push(cleanup);
    await exchanges(ports.get(10000) as number, TUNNELS, BYTES_EACH_WAY, 180_000);
    expect(await adminStat(ports.get(9901) as number, 'cluster.tunnel.upstream_cx_total')).toBe(1);
    expect(await adminStat(ports.get(9901) as number, 'listener.envoy_internal_decap.downstream_cx_total')).toBe(TUNNELS);
    // Both halves in one process: twice the windows.
    expect(residentMiB(proxy.child.pid as number).peak).toBeLessThan(RSS_BOUND_MIB + TUNNELS * 16);
  }, 300_000);

  it('against a python3-h2 terminator that writes with blocking sendall() (it stops reading while it writes): 4 tunnels x 32 MiB each way', async () => {
    const python = requirePeer('python3-h2');
    const echoPort = await startEcho();
    const terminatorPort = await freePort();
    const script = fileURLToPath(new URL('../../../packages/http-connect/test/fixtures/tunnel-h2-blocking-terminator.py', import.meta.url));
    const child = spawn(python, [script, String(terminatorPort)], { stdio: ['ignore', 'pipe', 'pipe'] });
    cleanups.push(() => void child.kill('SIGKILL'));
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await waitUntil(() => Promise.resolve(output.includes('listening')), 15_000, `the blocking terminator to listen (output: ${output})`);
    const { ports, cleanup } = await serve(encapTo(terminatorPort, echoPort), [], { ports: new Map([[terminatorPort, terminatorPort]]) });
    cleanups.push(cleanup);
    await exchanges(ports.get(10000) as number, 4, 32 * MiB, 120_000);
    expect(await adminStat(ports.get(9903) as number, 'cluster.cluster_0.upstream_cx_total')).toBe(1);
  }, 180_000);

  it("the HCM's side: a node:http2 client (it stops reading while it writes) runs 16 CONNECT streams x 32 MiB each way through proxy_connect.yaml, sha256-intact", async () => {
    const ports = new Map<number, number>();
    ports.set(10002, await startEcho());
    const decap = await serve(envoyConfig('proxy_connect.yaml'), [], { ports });
    cleanups.push(decap.cleanup);
    // Envoy-sized windows, so the proxy may send as much as the client sends it.
    const session = http2.connect(`http://127.0.0.1:${ports.get(10001) as number}`, { settings: { initialWindowSize: 16 * MiB } });
    session.once('connect', () => session.setLocalWindowSize(24 * MiB));
    session.on('error', () => undefined);
    cleanups.push(() => {
      session.destroy();
    });
    const size = 32 * MiB;
    const one = (): Promise<void> =>
      new Promise((resolve, reject) => {
        const stream = session.request({ ':method': 'CONNECT', ':authority': 'echo:1' });
        const out = createHash('sha256');
        const back = createHash('sha256');
        let received = 0;
        stream.on('response', (headers) => {
          if (headers[':status'] !== 200) reject(new Error(`status ${String(headers[':status'])}`));
        });
        stream.on('data', (chunk: Buffer) => {
          back.update(chunk);
          received += chunk.length;
        });
        stream.once('end', () => {
          expect(received).toBe(size);
          expect(back.digest('hex')).toBe(out.digest('hex'));
          resolve();
        });
        stream.once('error', reject);
        let sent = 0;
        const pump = (): void => {
          while (sent < size) {
            const chunk = randomBytes(64 * 1024);
            out.update(chunk);
            sent += chunk.length;
            if (!stream.write(chunk)) {
              stream.once('drain', pump);
              return;
            }
          }
          stream.end();
        };
        pump();
      });
    await within(Promise.all(Array.from({ length: TUNNELS }, one)), 120_000, '16 CONNECT streams of 32 MiB each way');
    expect(await adminStat(ports.get(9902) as number, 'http.ingress_http.downstream_cx_total')).toBe(1);
  }, 180_000);

  it("a tunnel whose client stops reading holds up no other tunnel of its connection, and finishes once it reads again", async () => {
    const ports = new Map<number, number>();
    ports.set(10002, await startEcho());
    const decap = await serve(envoyConfig('proxy_connect.yaml'), [], { ports });
    cleanups.push(decap.cleanup);
    const encap = await serve(envoyConfig('encapsulate_in_http2_connect.yaml'), [], { ports });
    cleanups.push(encap.cleanup);
    const port = ports.get(10000) as number;
    // The stuck client writes 64 MiB and reads nothing: its echo fills its stream's window and every
    // buffer on its way back, until the stuck client's own writes are held.
    const stuck = net.connect(port, '127.0.0.1');
    cleanups.push(() => void stuck.destroy());
    stuck.pause();
    let stuckReceived = 0;
    const stuckDone = new Promise<void>((resolve) => {
      stuck.on('data', (chunk: Buffer) => (stuckReceived += chunk.length));
      stuck.once('end', () => resolve());
    });
    stuck.end(Buffer.alloc(64 * MiB, 0x73));
    await waitUntil(async () => (await adminStat(ports.get(9903) as number, 'cluster.cluster_0.upstream_rq_total')) === 1, 10_000, 'the stuck tunnel to be opened');
    // Seven more tunnels on the same connection move 32 MiB each way meanwhile.
    await exchanges(port, 7, 32 * MiB, 120_000);
    expect(stuckReceived).toBe(0);
    expect(await adminStat(ports.get(9903) as number, 'cluster.cluster_0.upstream_cx_total')).toBe(1);
    stuck.resume();
    await within(stuckDone, 30_000, 'the stuck tunnel to finish once read');
    expect(stuckReceived).toBe(64 * MiB);
  }, 180_000);
});

/** Reads `socket` at about `mibPerSecond`, counting bytes until its end. */
function slowRead(socket: net.Socket, mibPerSecond: number): Promise<number> {
  return new Promise((resolve) => {
    let received = 0;
    let budget = 0;
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
      budget += chunk.length;
      if (budget < MiB) return;
      budget = 0;
      // A reader that takes its time, not a wait for an event: the pause is the slowness.
      socket.pause();
      setTimeout(() => socket.resume(), 1000 / mibPerSecond);
    });
    socket.once('end', () => resolve(received));
  });
}

describe('memory stays within the HTTP/2 windows behind a slow reader', () => {
  it("256 MiB up to a slow sink, then 256 MiB down to a slow client: encap and decap each stay under 160 MiB (Envoy's 16 MiB stream window: about 110 MiB measured; the old 256 MiB windows let them reach 180-195 MiB)", async () => {
    const SIZE = 256 * MiB;
    const sinkDone: Array<Promise<number>> = [];
    const server = net.createServer({ allowHalfOpen: true }, (socket) => {
      socket.on('error', () => undefined);
      socket.once('data', (first: Buffer) => {
        socket.pause();
        if (first.toString('latin1', 0, 4) === 'GET ') {
          // Download: as fast as the tunnel takes it.
          const block = Buffer.alloc(MiB, 0x64);
          let sent = 0;
          const pump = (): void => {
            while (sent < SIZE) {
              sent += block.length;
              if (!socket.write(block)) {
                socket.once('drain', pump);
                return;
              }
            }
            socket.end();
          };
          pump();
          socket.resume();
          return;
        }
        // Upload: read slowly.
        const done = slowRead(socket, 256).then((n) => n + first.length);
        sinkDone.push(done);
        socket.resume();
        void done.then(() => socket.end());
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const backendPort = (server.address() as net.AddressInfo).port;
    const ports = new Map<number, number>([[10002, backendPort]]);
    const decap = await serve(envoyConfig('proxy_connect.yaml'), [], { ports });
    cleanups.push(decap.cleanup);
    const encap = await serve(envoyConfig('encapsulate_in_http2_connect.yaml'), [], { ports });
    cleanups.push(encap.cleanup);
    const port = ports.get(10000) as number;

    const up = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    up.on('error', () => undefined);
    const upEnded = new Promise<void>((resolve) => up.once('end', () => resolve()));
    up.resume();
    const block = Buffer.alloc(MiB, 0x75);
    let written = 0;
    const pump = (): void => {
      while (written < SIZE) {
        written += block.length;
        if (!up.write(block)) {
          up.once('drain', pump);
          return;
        }
      }
      up.end();
    };
    up.once('connect', pump);
    await within(upEnded, 60_000, 'the slow sink to take 256 MiB');
    expect(await sinkDone[0]).toBe(SIZE);

    const down = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    down.on('error', () => undefined);
    down.write('GET ');
    const received = await within(slowRead(down, 256), 60_000, 'the slow client to read 256 MiB');
    expect(received).toBe(SIZE);
    down.destroy();
    for (const proxy of [encap.proxy, decap.proxy]) expect(residentMiB(proxy.child.pid as number).peak).toBeLessThan(160);
  }, 180_000);
});

/**
 * A fake HTTP/2 CONNECT terminator that answers the first CONNECT with 200 and then never reads
 * its socket again: a peer gone bad. Counts the connections it accepted.
 */
async function stalledTerminator(): Promise<{ port: number; connections: () => number }> {
  const sockets: net.Socket[] = [];
  const server = net.createServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => undefined);
    let seen = Buffer.alloc(0);
    let answered = false;
    // Our SETTINGS (INITIAL_WINDOW_SIZE 16 MiB), a 16 MiB connection WINDOW_UPDATE and the ACK of
    // the client's SETTINGS: windows wide open, so what stops the bytes is the unread socket.
    socket.write(
      Buffer.from([
        ...[0, 0, 6, 4, 0, 0, 0, 0, 0, 0, 4, 1, 0, 0, 0],
        ...[0, 0, 4, 8, 0, 0, 0, 0, 0, 1, 0, 0, 0],
        ...[0, 0, 0, 4, 1, 0, 0, 0, 0],
      ]),
    );
    socket.on('data', (chunk: Buffer) => {
      seen = Buffer.concat([seen, chunk]);
      let offset = 24; // the client preface
      while (!answered && offset + 9 <= seen.length) {
        const length = seen.readUIntBE(offset, 3);
        const type = seen[offset + 3];
        const stream = seen.readUInt32BE(offset + 5) & 0x7fffffff;
        if (type === 1) {
          // HEADERS :status 200 (HPACK static index 8), END_HEADERS, then no more reading.
          const id = Buffer.alloc(4);
          id.writeUInt32BE(stream);
          socket.write(Buffer.concat([Buffer.from([0, 0, 1, 1, 4]), id, Buffer.from([0x88])]));
          answered = true;
          socket.pause();
        }
        offset += 9 + length;
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  );
  return { port: (server.address() as net.AddressInfo).port, connections: () => sockets.length };
}

describe('a stalled HTTP/2 connection is never given new streams', () => {
  it('a peer that stops reading: the connection is closed once its queued bytes sit for connection_keepalive.timeout, counted in http2.tx_stall_timeout, and the next tunnel gets a fresh connection', async () => {
    const peer = await stalledTerminator();
    const { ports, cleanup } = await serve(encapTo(peer.port, 9, 'connection_keepalive: { timeout: 1s }'), [], { ports: new Map([[peer.port, peer.port]]) });
    cleanups.push(cleanup);
    const port = ports.get(10000) as number;
    const admin = ports.get(9903) as number;
    const first = net.connect(port, '127.0.0.1');
    first.on('error', () => undefined);
    const firstClosed = new Promise<void>((resolve) => first.once('close', () => resolve()));
    // More than the kernel buffers and the connection's 1 MiB watermark can take.
    const block = Buffer.alloc(MiB, 0x61);
    const writeMore = (): void => {
      while (first.write(block));
      first.once('drain', writeMore);
    };
    first.once('connect', writeMore);
    await within(firstClosed, 30_000, 'the tunnel on the stalled connection to be closed');
    expect(await adminStat(admin, 'cluster.cluster_0.http2.tx_stall_timeout')).toBe(1);
    await waitUntil(async () => (await adminStat(admin, 'cluster.cluster_0.upstream_cx_active')) === 0, 10_000, 'the stalled connection to be gone');
    // The next tunnel is not put on the dead connection.
    const second = net.connect(port, '127.0.0.1');
    second.on('error', () => undefined);
    cleanups.push(() => void second.destroy());
    await waitUntil(() => Promise.resolve(peer.connections() === 2), 10_000, 'a fresh connection for the next tunnel');
    expect(await adminStat(admin, 'cluster.cluster_0.upstream_cx_total')).toBe(2);
  }, 60_000);
});
