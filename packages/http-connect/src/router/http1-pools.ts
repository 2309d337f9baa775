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
  #closed = false;

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
      pool = createPool(cluster, host, options);
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

function createPool(cluster: UpstreamCluster, host: Host, options: Http1PoolOptions): Pool {
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
      const connection = cluster.newConnection(host, {
        hops: options.hops,
        downstreamFilterState: options.downstreamFilterState,
        transportSocketOptions: options.transportSocketOptions,
      });
      if (connection === 'overflow') {
        callback(new UpstreamConnectError('overflow', undefined, `cluster '${cluster.name}': max_connections reached`), null);
        return;
      }
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
