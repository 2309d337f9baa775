// Clients that go away while their connection is being set up (before the upstream connect, during
// the CONNECT, before the 2xx) leave nothing behind: every *_active gauge of every proxy on the path
// returns to what the proxies hold by design (a pooled HTTP/2 connection), and no socket is left in
// CLOSE-WAIT. Before, the FIN of such a client was lost and each one held two proxies' resources for
// an hour (the idle timeout), or for ever with idle_timeout: 0s.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { echoServer } from '../../../test-support/bulk.js';
import { envoyConfig } from '../../../test-support/envoy-configs.js';
import { freePort } from '../../../test-support/ports.js';
import { closeWaitSockets } from '../../../test-support/sockets.js';
import { waitUntil, within } from '../../../test-support/wait.js';
import { serve } from './il-proxy-process.js';

const CLIENTS = 1000;
/** Clients in flight at once (the listen backlog and the echo server stay comfortable). */
const BATCH = 200;

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

type Close = 'fin' | 'data-fin' | 'reset';

/**
 * `CLIENTS` connections to `port`, each closed right after it is accepted by the kernel: a FIN
 * with nothing sent, a few bytes and a FIN, or an RST. Resolves once every client is gone
 * (a FIN client waits for the proxy's FIN, so a lost FIN shows up here too, as a timeout).
 */
async function connectAndClose(port: number, close: Close): Promise<void> {
  for (let done = 0; done < CLIENTS; done += BATCH) {
    await within(
      Promise.all(
        Array.from(
          { length: BATCH },
          () =>
            new Promise<void>((resolve) => {
              const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
              socket.once('connect', () => {
                if (close === 'reset') socket.resetAndDestroy();
                else if (close === 'data-fin') socket.end('hello');
                else socket.end();
              });
              socket.on('error', () => resolve());
              socket.once('close', () => resolve());
              socket.once('end', () => socket.destroy());
              socket.resume();
            }),
        ),
      ),
      60_000,
      `${BATCH} clients that ${close === 'reset' ? 'reset' : 'half-close'} at once to be answered`,
    );
  }
}

/** The admin's non-zero `*_active` gauges (the listener manager's own count aside). */
async function activeGauges(adminPort: number): Promise<Record<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${adminPort}/stats?filter=_active$`)).text();
  const active: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const match = /^([^:]+): (\d+)$/.exec(line);
    if (match === null || match[1]?.startsWith('listener_manager.') === true) continue;
    const value = Number(match[2]);
    if (value !== 0) active[match[1] as string] = value;
  }
  return active;
}

interface Topology {
  readonly name: string;
  /** Starts the proxies (and their upstream); returns where clients connect and what each admin must settle on. */
  start(): Promise<{ port: number; ports: number[]; settled: Array<{ admin: number; active: Record<string, number> }> }>;
}

function tcpProxyConfig(upstreamPort: number): string {
  return `admin:
  address: { socket_address: { address: 127.0.0.1, port_value: 9901 } }
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
          cluster: echo
  clusters:
  - name: echo
    load_assignment:
      cluster_name: echo
      endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${upstreamPort} } } } }] }]
`;
}

async function startEcho(port?: number): Promise<number> {
  const echo = await echoServer(port);
  cleanups.push(echo.close);
  return echo.port;
}

/** encap (one of Envoy's encapsulate_* configs) -> proxy_connect.yaml -> echo, as two il-proxies. */
function tunnel(name: string, encapConfig: string, pooled: boolean): Topology {
  return {
    name,
    async start() {
      const ports = new Map<number, number>();
      ports.set(10002, await startEcho());
      const decap = await serve(envoyConfig('proxy_connect.yaml'), [], { ports });
      cleanups.push(decap.cleanup);
      const encap = await serve(envoyConfig(encapConfig), [], { ports });
      cleanups.push(encap.cleanup);
      const decapPort = ports.get(10001) as number;
      // An HTTP/2 tunnel's pool keeps its one connection open, and the decap side serves it.
      const encapActive: Record<string, number> = pooled ? { 'cluster.cluster_0.upstream_cx_active': 1 } : {};
      const decapActive: Record<string, number> = pooled
        ? {
            'http.ingress_http.downstream_cx_active': 1,
            'http.ingress_http.downstream_cx_http2_active': 1,
            [`listener.127.0.0.1_${decapPort}.downstream_cx_active`]: 1,
          }
        : {};
      return {
        port: ports.get(10000) as number,
        ports: [...ports.values()],
        settled: [
          { admin: ports.get(9903) as number, active: encapActive },
          { admin: ports.get(9902) as number, active: decapActive },
        ],
      };
    },
  };
}

const TOPOLOGIES: Topology[] = [
  {
    name: 'plain TcpProxy',
    async start() {
      const echo = await startEcho();
      const { ports, cleanup } = await serve(tcpProxyConfig(echo), [], { ports: new Map([[echo, echo]]) });
      cleanups.push(cleanup);
      return { port: ports.get(10000) as number, ports: [...ports.values()], settled: [{ admin: ports.get(9901) as number, active: {} }] };
    },
  },
  {
    name: "the internal-listener chain (Envoy's internal_listener_proxy.yaml)",
    async start() {
      const ports = new Map<number, number>();
      // internal_listener_proxy.yaml: 9999 -> internal listener "encap" -> 127.0.0.1:10000.
      ports.set(10000, await startEcho(await freePort()));
      const { cleanup } = await serve(envoyConfig('internal_listener_proxy.yaml'), [], { ports });
      cleanups.push(cleanup);
      return { port: ports.get(9999) as number, ports: [...ports.values()], settled: [{ admin: ports.get(9904) as number, active: {} }] };
    },
  },
  tunnel('an HTTP/2 CONNECT tunnel (encapsulate_in_http2_connect.yaml -> proxy_connect.yaml)', 'encapsulate_in_http2_connect.yaml', true),
  tunnel('an HTTP/1.1 CONNECT tunnel (encapsulate_in_http1_connect.yaml -> proxy_connect.yaml)', 'encapsulate_in_http1_connect.yaml', false),
];

describe.each(TOPOLOGIES)('clients that close during set-up leave nothing behind: $name', (topology) => {
  it.each<Close>(['fin', 'data-fin', 'reset'])(`${CLIENTS} clients that connect and close (%s): every *_active gauge settles and no socket stays in CLOSE-WAIT`, async (close) => {
    const { port, ports, settled } = await topology.start();
    await connectAndClose(port, close);
    for (const { admin, active } of settled) {
      // Settling takes a few event-loop turns per proxy; the gauges then must be exactly these.
      await waitUntil(async () => JSON.stringify(await activeGauges(admin)) === JSON.stringify(active), 10_000, `the active gauges of admin :${admin} to settle`).catch(() => undefined);
      expect(await activeGauges(admin)).toEqual(active);
    }
    await waitUntil(() => Promise.resolve(closeWaitSockets(ports) === 0), 10_000, 'no socket in CLOSE-WAIT').catch(() => undefined);
    expect(closeWaitSockets(ports)).toBe(0);
  }, 120_000);
});
