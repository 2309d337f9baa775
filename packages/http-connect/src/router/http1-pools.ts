import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Pool } from 'undici';
import type { ClusterManager, DrainManager, Host, UpstreamCluster, UpstreamConnection } from '@il/core';
import { UpstreamConnectError } from './upstream.js';
import { poolKey, type PoolDialOptions } from '../upstream/pool-key.js';

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
  readonly #pools = new Map<UpstreamCluster, Map<Host, Map<string, Pool>>>();
  /** Connections dialled by someone else for a pool (auto_config's ALPN probe), taken by its next dial. */
  readonly #spares = new WeakMap<Pool, UpstreamConnection[]>();
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
    const pool = this.for(cluster, host, options);
    let spares = this.#spares.get(pool);
    if (spares === undefined) {
      spares = [];
      this.#spares.set(pool, spares);
    }
    const list = spares;
    list.push(connection);
    connection.socket.once('close', () => {
      const at = list.indexOf(connection);
      if (at !== -1) list.splice(at, 1);
    });
  }

  for(cluster: UpstreamCluster, host: Host, options: Http1PoolOptions): Pool {
    let byHost = this.#pools.get(cluster);
    if (byHost === undefined) {
      byHost = new Map();
      this.#pools.set(cluster, byHost);
    }
    let byKey = byHost.get(host);
    if (byKey === undefined) {
      byKey = new Map();
      byHost.set(host, byKey);
    }
    const key = poolKey(options);
    let pool = byKey.get(key);
    if (pool === undefined) {
      const created: Pool = createPool(cluster, host, options, () => this.#spares.get(created)?.shift());
      pool = created;
      byKey.set(key, pool);
    }
    return pool;
  }

  /** Server drain: idle connections go now, busy ones after their request. */
  drain(): void {
    for (const pool of this.#all()) void pool.close().catch(() => undefined);
    this.#pools.clear();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const pool of this.#all()) void pool.destroy().catch(() => undefined);
    this.#pools.clear();
  }

  *#all(): Generator<Pool> {
    for (const byHost of this.#pools.values()) for (const byKey of byHost.values()) yield* byKey.values();
  }
}

function originOf(host: Host): string {
  const socketAddress = host.address.socket_address;
  if (socketAddress === undefined) return 'http://localhost';
  const ip = socketAddress.address.includes(':') ? `[${socketAddress.address}]` : socketAddress.address;
  return `http://${ip}:${socketAddress.port_value}`;
}

function createPool(cluster: UpstreamCluster, host: Host, options: Http1PoolOptions, takeSpare: () => UpstreamConnection | undefined): Pool {
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
      const spare = takeSpare();
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
      const connection = cluster.newConnection(host, {
        hops: options.hops,
        downstreamFilterState: options.downstreamFilterState,
        transportSocketOptions: options.transportSocketOptions,
      });
      if (connection === 'overflow') {
        callback(new UpstreamConnectError('overflow', undefined, `cluster '${cluster.name}': max_connections reached`), null);
        return;
      }
      cluster.stats.counters.upstream_cx_http1_total.inc();
      const socket = connection.socket;
      connections.set(socket, connection);
      let settled = false;
      const onError = (error: NodeJS.ErrnoException): void => {
        if (settled) return;
        settled = true;
        callback(UpstreamConnectError.fromSocketError(error, host, false), null);
      };
      const onClose = (): void => onError(Object.assign(new Error('connection closed before it was established'), { code: 'ECONNRESET' }));
      const onConnect = (): void => {
        if (settled) return;
        settled = true;
        socket.off('error', onError);
        socket.off('close', onClose);
        // undici's client wants a net.Socket; a ConnectionSocket has the surface it uses.
        callback(null, socket as unknown as Socket);
      };
      socket.once('connect', onConnect);
      socket.once('error', onError);
      socket.once('close', onClose);
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
