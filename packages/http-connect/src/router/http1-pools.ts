import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Pool } from 'undici';
import type { ClusterManager, DrainManager, Host, UpstreamCluster, UpstreamConnection } from '@il/core';
import { connectionEstablished, connectionOverflow, UpstreamConnectError } from './upstream.js';
import { PoolMap, poolKey, type PoolDialOptions } from '../upstream/pool-key.js';

type Undici = typeof import('undici');
let undici: Undici | undefined;

/**
 * undici, loaded on first need. Loading it (its llhttp WebAssembly included) costs about 20 MiB of
 * RSS, which a config without HTTP/1.1 upstreams (TcpProxy, CONNECT termination, direct
 * responses) should not pay. `compileHttpConnectionManager` calls this for route tables that may
 * proxy HTTP, so the load happens at start-up and never stalls a request. undici is CommonJS, and
 * `require` shares its module cache with `import`, so there is one copy either way.
 */
export function loadUndici(): Undici {
  undici ??= createRequire(import.meta.url)('undici') as Undici;
  return undici;
}

/** Envoy's common_http_protocol_options.idle_timeout default (1 hour). */
const DEFAULT_IDLE_TIMEOUT_MS = 3_600_000;
/** Envoy's default max_response_headers_kb (60 KiB) for upstream responses. */
const MAX_RESPONSE_HEADER_BYTES = 60 * 1024;

export type Http1PoolOptions = PoolDialOptions;

/**
 * HTTP/1.1 connection pools on undici: one `Pool` per cluster, host and pool key. Each pool dials
 * through `cluster.newConnection`, so internal hosts go through the internal listener registry
 * and the cluster's connection stats and circuit breakers count every connection.
 */
export class Http1ConnectionPools {
  readonly #pools = new PoolMap<Http1Pool>();
  #closed = false;

  /**
   * Hands a connected connection to the pool these options select: the pool's next dial takes it
   * instead of opening another. A spare that closes while it waits is dropped.
   */
  adopt(cluster: UpstreamCluster, host: Host, options: Http1PoolOptions, connection: UpstreamConnection): void {
    if (this.#closed) {
      connection.socket.destroy();
      return;
    }
    const { spares } = this.#entry(cluster, host, options);
    spares.push(connection);
    connection.socket.once('close', () => {
      const at = spares.indexOf(connection);
      if (at !== -1) spares.splice(at, 1);
    });
  }

  for(cluster: UpstreamCluster, host: Host, options: Http1PoolOptions): Pool {
    return this.#entry(cluster, host, options).pool;
  }

  /** Server drain: idle connections go now, busy ones after their request. */
  drain(): void {
    for (const { pool } of this.#pools.values()) void pool.close().catch(() => undefined);
    this.#pools.clear();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const { pool } of this.#pools.values()) void pool.destroy().catch(() => undefined);
    this.#pools.clear();
  }

  #entry(cluster: UpstreamCluster, host: Host, options: Http1PoolOptions): Http1Pool {
    return this.#pools.getOrCreate(cluster, host, poolKey(options), () => {
      const spares: UpstreamConnection[] = [];
      return { pool: createPool(cluster, host, options, spares), spares };
    });
  }
}

/** An undici pool and the connections handed to it that it has not taken yet. */
interface Http1Pool {
  readonly pool: Pool;
  readonly spares: UpstreamConnection[];
}

function originOf(host: Host): string {
  const socketAddress = host.address.socket_address;
  if (socketAddress === undefined) return 'http://localhost';
  const ip = socketAddress.address.includes(':') ? `[${socketAddress.address}]` : socketAddress.address;
  return `http://${ip}:${socketAddress.port_value}`;
}

function createPool(cluster: UpstreamCluster, host: Host, options: Http1PoolOptions, spares: UpstreamConnection[]): Pool {
  const idleMs = cluster.commonHttpOptions?.idle_timeout.ms ?? DEFAULT_IDLE_TIMEOUT_MS;
  const keepAliveMs = idleMs > 0 ? idleMs : DEFAULT_IDLE_TIMEOUT_MS;
  const maxRequests = cluster.commonHttpOptions?.max_requests_per_connection;
  const { Pool } = loadUndici();
  return new Pool(originOf(host), {
    connections: cluster.resources.connections.max,
    pipelining: 1,
    headersTimeout: 0,
    bodyTimeout: 0,
    keepAliveTimeout: keepAliveMs,
    keepAliveMaxTimeout: keepAliveMs,
    maxHeaderSize: MAX_RESPONSE_HEADER_BYTES,
    ...(maxRequests === undefined || maxRequests === 0 ? {} : { maxRequestsPerClient: maxRequests }),
    connect: (_connectOptions, callback) => {
      const spare = spares.shift();
      if (spare !== undefined && !spare.socket.destroyed) {
        cluster.stats.counters.upstream_cx_http1_total.inc();
        connections.set(spare.socket, spare);
        // undici never writes on a socket its connector returns synchronously: answer on a later turn.
        setImmediate(() => {
          if (spare.socket.destroyed) callback(new UpstreamConnectError('connection failure', undefined, 'the connection closed before its first request'), null);
          // undici's client wants a net.Socket; a ConnectionSocket has the surface it uses.
          else callback(null, spare.socket as unknown as Socket);
        });
        return;
      }
      const connection = cluster.newConnection(host, options);
      if (connection === 'overflow') {
        callback(connectionOverflow(cluster), null);
        return;
      }
      cluster.stats.counters.upstream_cx_http1_total.inc();
      connections.set(connection.socket, connection);
      connectionEstablished(connection, host).then(
        () => callback(null, connection.socket as unknown as Socket),
        // connectionEstablished rejects only with an UpstreamConnectError.
        (error: unknown) => callback(error as UpstreamConnectError, null),
      );
    },
  });
}

const shared = new WeakMap<ClusterManager, Http1ConnectionPools>();

const connections = new WeakMap<object, UpstreamConnection>();

/** The upstream connection behind a socket of these pools (for %UPSTREAM_CONNECTION_ID% and addresses). */
export function upstreamConnectionOf(socket: Duplex): UpstreamConnection | undefined {
  return connections.get(socket);
}

/** The HTTP/1.1 pools of one runtime (one set per cluster manager), drained with it. */
export function sharedHttp1ConnectionPools(context: { readonly clusterManager: ClusterManager; readonly drain: DrainManager }): Http1ConnectionPools {
  let pools = shared.get(context.clusterManager);
  if (pools === undefined) {
    const created = new Http1ConnectionPools();
    shared.set(context.clusterManager, created);
    context.drain.once('drain', () => created.drain());
    pools = created;
  }
  return pools;
}
