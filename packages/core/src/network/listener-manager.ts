import { chmodSync, existsSync, statSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import { addressString, type FilterChain, type Listener, type NetworkFilterConfig, type Secret } from '@il/config/runtime';
import { AccessLogFileManager } from '../access-log/file-manager.js';
import type { Scope } from '../stats/store.js';
import { StreamInfo, allocateConnectionId } from '../stream-info/stream-info.js';
import type { ClusterManager } from '../upstream/cluster-manager.js';
import { connectionAddresses, type ConnectionAddress } from './connection-address.js';
import type { ConnectionSocket } from './dial.js';
import { DrainManager } from './drain-manager.js';
import { selectFilterChain } from './filter-chain-match.js';
import { InternalSocket } from './internal-socket.js';
import type { InternalListener, InternalListenerRegistry } from './internal-listener-registry.js';
import { ListenerStats } from './listener-stats.js';
import { DownstreamTlsServer } from '../transport-sockets/tls/downstream-tls.js';
import { downstreamTlsOf } from '../transport-sockets/tls/downstream-transport.js';
import { SslStats } from '../transport-sockets/tls/ssl-stats.js';
import type { TlsContext } from '../transport-sockets/tls/tls-context.js';
import { connectionTlsInfo } from '../transport-sockets/tls/tls-info.js';
import { inspectTls, tlsInspectorStats, type InspectedConnection, type TlsInspectorStats } from '../transport-sockets/tls/tls-inspector.js';
import type {
  ComponentLog,
  ConnectionHandler,
  DownstreamConnection,
  ListenerInfo,
  NetworkFilterFactory,
  NetworkFilterFactoryContext,
} from './network-filter.js';

export interface ListenerManagerOptions {
  listeners: readonly Listener[];
  filterFactories: readonly NetworkFilterFactory[];
  clusterManager: ClusterManager;
  /** Present when the InternalListener bootstrap extension is configured. */
  registry: InternalListenerRegistry | undefined;
  /** Root stats scope. */
  scope: Scope;
  drain?: DrainManager | undefined;
  log?: ((component: string) => ComponentLog) | undefined;
  /** Shared by every filter's access logs; a private one when absent. */
  accessLogFiles?: AccessLogFileManager | undefined;
  /** static_resources.secrets, for TLS contexts that name them. */
  secrets?: readonly Secret[] | undefined;
}

/** A filter chain as a listener runs it: its terminal filter's handler and its TLS, if any. */
interface ActiveChain {
  readonly chain: FilterChain;
  readonly handler: ConnectionHandler;
  readonly tls: DownstreamTlsServer | undefined;
}

/** A listener's runtime state. */
interface ActiveListener {
  readonly info: ListenerInfo;
  readonly stats: ListenerStats;
  readonly chains: readonly ActiveChain[];
  readonly defaultChain: ActiveChain | undefined;
  /** tls_inspector, when the listener has it: how long to wait for a ClientHello. */
  readonly inspector: { readonly timeoutMs: number; readonly continueOnTimeout: boolean; readonly stats: TlsInspectorStats } | undefined;
  server: net.Server | undefined;
  internal: InternalListener | undefined;
  /** Where it is bound: `127.0.0.1:10000` (actual port), a pipe path, or `envoy://name/`. */
  boundAddress: string;
}

const noLog: ComponentLog = () => undefined;

/**
 * Envoy's listener manager for static listeners: binds TCP (IPv4/IPv6) and Unix listeners,
 * registers internal listeners, and hands each accepted connection to the terminal network
 * filter of its matching filter chain, with Envoy's listener stats. Start-up is all or
 * nothing: if one address cannot be bound, the ones already bound are closed again.
 */
export class ListenerManager {
  readonly drain: DrainManager;
  readonly accessLogFiles: AccessLogFileManager;
  readonly #options: ListenerManagerOptions;
  readonly #listeners: ActiveListener[] = [];
  readonly #connections = new Set<ConnectionSocket>();
  readonly #log: (component: string) => ComponentLog;
  readonly #managerScope: Scope;
  #started = false;

  constructor(options: ListenerManagerOptions) {
    this.#options = options;
    this.drain = options.drain ?? new DrainManager();
    this.accessLogFiles = options.accessLogFiles ?? new AccessLogFileManager();
    this.#log = options.log ?? (() => noLog);
    this.#managerScope = options.scope.scope('listener_manager');
  }

  /** Open downstream connections across every listener. */
  get activeConnections(): number {
    return this.#connections.size;
  }

  /** Builds every listener's filter chains, then binds or registers them all. */
  async start(): Promise<void> {
    if (this.#started) throw new Error('the listener manager is already started');
    this.#started = true;
    for (const config of this.#options.listeners) this.#listeners.push(this.#build(config));
    try {
      for (const listener of this.#listeners) await this.#open(listener);
    } catch (error) {
      await this.stopListening();
      for (const listener of this.#listeners) listener.internal?.close();
      throw error;
    }
    this.#managerScope.gauge('total_listeners_active').set(this.#listeners.length);
    this.#managerScope.counter('listener_added').inc(this.#listeners.length);
  }

  /** Name and bound address of each listener (`envoy://name/` for internal ones). */
  listeners(): Array<{ name: string; address: string; internal: boolean }> {
    return this.#listeners.map((l) => ({ name: l.info.name, address: l.boundAddress, internal: l.info.internal }));
  }

  /** The port a TCP listener is bound to (useful with port 0). */
  port(name: string): number | undefined {
    const address = this.#listeners.find((l) => l.info.name === name)?.server?.address();
    return typeof address === 'object' && address !== null ? address.port : undefined;
  }

  /**
   * Stops accepting new connections on TCP and Unix listeners; open connections carry on.
   * Internal listeners keep accepting until shutdown ends: only this process can reach them,
   * and requests still in flight on open downstream connections may need new internal hops.
   */
  async stopListening(): Promise<void> {
    for (const listener of this.#listeners) {
      // close() stops accepting at once; its callback would wait for every open connection,
      // which is what draining is for, so it is not awaited.
      if (listener.server?.listening === true) listener.server.close();
      listener.server = undefined;
    }
    this.#managerScope.gauge('total_listeners_active').set(0);
    // The listening sockets' file descriptors are released on the next turn.
    await new Promise((resolve) => setImmediate(resolve));
  }

  /**
   * Envoy's shutdown sequence: stop accepting, start draining (HTTP/2 GOAWAY, HTTP/1.1
   * `connection: close`), wait up to `drainTimeMs` for connections to finish, then close what
   * is left.
   */
  async shutdown(drainTimeMs: number): Promise<void> {
    await this.stopListening();
    this.drain.startDrain(drainTimeMs);
    const deadline = performance.now() + drainTimeMs;
    while (this.#connections.size > 0 && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(50, Math.max(1, deadline - performance.now()))));
    }
    await this.closeConnections();
    for (const listener of this.#listeners) listener.internal?.close();
  }

  /** Every TLS context of every filter chain (admin /certs). */
  tlsContexts(): TlsContext[] {
    const contexts: TlsContext[] = [];
    for (const listener of this.#listeners) {
      for (const entry of [...listener.chains, ...(listener.defaultChain === undefined ? [] : [listener.defaultChain])]) {
        if (entry.tls !== undefined) contexts.push(entry.tls.context);
      }
    }
    return contexts;
  }

  /** Closes every open downstream connection now; resolves once they have all closed. */
  async closeConnections(): Promise<void> {
    const sockets = [...this.#connections];
    const closed = sockets.map((socket) => new Promise<void>((resolve) => {
      if (!this.#connections.has(socket)) resolve();
      else socket.once('close', () => resolve());
    }));
    for (const socket of sockets) socket.destroy();
    await Promise.all(closed);
  }

  #build(config: Listener): ActiveListener {
    const internal = config.internal_listener !== undefined;
    const scope = this.#options.scope.taggedScope('listener', config.stat_prefix, 'envoy_listener_address');
    const info: ListenerInfo = {
      name: config.name,
      config,
      scope,
      internal,
      perConnectionBufferLimitBytes: config.per_connection_buffer_limit_bytes,
    };
    const context: NetworkFilterFactoryContext = {
      clusterManager: this.#options.clusterManager,
      registry: this.#options.registry,
      scope: this.#options.scope,
      listener: info,
      drain: this.drain,
      log: this.#log,
      accessLogFiles: this.accessLogFiles,
    };
    const secrets = this.#options.secrets ?? [];
    // Listener ssl stats exist only when some chain is TLS (created on the first such chain).
    let sslStats: SslStats | undefined;
    const handlerFor = (chain: FilterChain): ActiveChain => {
      const tls = downstreamTlsOf(chain, secrets);
      if (tls !== undefined) sslStats ??= new SslStats(scope);
      return {
        chain,
        handler: this.#terminalHandler(chain, context),
        tls: tls === undefined || sslStats === undefined ? undefined : new DownstreamTlsServer(tls, sslStats, this.#log('connection')),
      };
    };
    const chains = config.filter_chains.map(handlerFor);
    const defaultChain = config.default_filter_chain === undefined ? undefined : handlerFor(config.default_filter_chain);
    // tls_inspector is the only listener filter @il/config accepts.
    const hasInspector = config.listener_filters.length > 0;
    return {
      info,
      stats: new ListenerStats(scope),
      chains,
      defaultChain,
      inspector: hasInspector
        ? { timeoutMs: config.listener_filters_timeout.ms, continueOnTimeout: config.continue_on_listener_filters_timeout, stats: tlsInspectorStats(this.#options.scope) }
        : undefined,
      server: undefined,
      internal: undefined,
      boundAddress: internal ? `envoy://${config.name}/` : config.address === undefined ? '' : addressString(config.address),
    };
  }

  /** The handler of a chain's terminal filter; a chain without filters closes its connections. */
  #terminalHandler(chain: FilterChain, context: NetworkFilterFactoryContext): ConnectionHandler {
    const terminal = chain.filters[chain.filters.length - 1];
    if (terminal === undefined) return ({ socket }) => socket.destroy();
    const config: NetworkFilterConfig = terminal.typed_config;
    const factory = this.#options.filterFactories.find((f) => f.typeUrl === config['@type']);
    if (factory === undefined) {
      throw new Error(`listener '${context.listener.name}': no network filter is registered for ${config['@type']}`);
    }
    return factory.create(config, context);
  }

  async #open(listener: ActiveListener): Promise<void> {
    const config = listener.info.config;
    if (listener.info.internal) {
      const registry = this.#options.registry;
      if (registry === undefined) {
        throw new Error(`error adding listener named '${config.name}': InternalListener bootstrap extension is mandatory`);
      }
      listener.internal = registry.listen(config.name, (socket) => this.#accept(listener, socket), { allowHalfOpen: true });
      return;
    }
    const address = config.address;
    if (address === undefined) throw new Error(`error adding listener named '${config.name}': address is necessary`);
    const server = net.createServer({ allowHalfOpen: true, noDelay: true, pauseOnConnect: false });
    server.on('connection', (socket) => this.#accept(listener, socket, address.pipe?.path));
    server.on('error', (error) => this.#log('conn_handler')('error', `listener '${config.name}': ${error.message}`));
    const described = addressString(address);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        if (address.pipe !== undefined) {
          const path = address.pipe.path.startsWith('@') ? `\0${address.pipe.path.slice(1)}` : address.pipe.path;
          removeStaleSocket(path);
          server.listen(path, () => resolve());
        } else if (address.socket_address !== undefined) {
          const { address: host, port_value: port, ipv4_compat } = address.socket_address;
          server.listen({ host, port, ipv6Only: net.isIPv6(host) && !ipv4_compat }, () => resolve());
        } else {
          reject(new Error('a TCP listener needs a socket_address or a pipe'));
        }
      });
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code === 'EADDRINUSE' ? 'Address already in use' : (error as Error).message;
      throw new Error(`error adding listener '${config.name}' (${described}): cannot bind '${described}': ${reason}`, { cause: error });
    }
    if (address.pipe !== undefined && address.pipe.mode !== 0 && !address.pipe.path.startsWith('@')) {
      chmodSync(address.pipe.path, address.pipe.mode);
    }
    listener.server = server;
    const bound = server.address();
    if (typeof bound === 'object' && bound !== null) {
      listener.boundAddress = bound.family === 'IPv6' ? `[${bound.address}]:${bound.port}` : `${bound.address}:${bound.port}`;
    }
  }

  #accept(listener: ActiveListener, socket: ConnectionSocket, pipePath?: string): void {
    const stats = listener.stats;
    stats.downstream_cx_total.inc();
    stats.downstream_cx_active.inc();
    this.#connections.add(socket);
    const startedMs = performance.now();
    // A filter attaches its own handlers; this one only keeps a stray error from crashing the process.
    socket.on('error', (error: Error) => this.#log('connection')('debug', `[${listener.info.name}] ${error.message}`));
    socket.once('close', () => {
      this.#connections.delete(socket);
      stats.downstream_cx_active.dec();
      stats.downstream_cx_destroy.inc();
      stats.downstream_cx_length_ms.record(performance.now() - startedMs);
    });
    const streamInfo = new StreamInfo();
    streamInfo.connectionId = allocateConnectionId();
    const { local, remote } = connectionAddresses(socket, pipePath);
    streamInfo.downstreamLocalAddress = local;
    streamInfo.downstreamRemoteAddress = remote;
    streamInfo.downstreamDirectRemoteAddress = remote;
    const hops = socket instanceof InternalSocket ? socket.hops : 0;
    if (socket instanceof InternalSocket) socket.passthroughState?.mergeInto(streamInfo.filterState, streamInfo.dynamicMetadata);
    if (listener.inspector === undefined) {
      this.#dispatch(listener, socket, streamInfo, hops, { local, remote }, undefined);
      return;
    }
    const inspector = listener.inspector;
    void inspectTls(socket, inspector.timeoutMs, inspector.stats).then((outcome) => {
      if (outcome === 'closed') {
        socket.destroy();
        return;
      }
      if (outcome === 'timeout') {
        stats.downstream_pre_cx_timeout.inc();
        if (!inspector.continueOnTimeout) {
          socket.destroy();
          return;
        }
      }
      this.#dispatch(listener, socket, streamInfo, hops, { local, remote }, outcome === 'timeout' ? undefined : outcome);
    });
  }

  /** Picks the filter chain (with what the TLS inspector saw), runs its TLS handshake if it has one, then its filter. */
  #dispatch(
    listener: ActiveListener,
    socket: ConnectionSocket,
    streamInfo: StreamInfo,
    hops: number,
    addresses: { local: ConnectionAddress; remote: ConnectionAddress },
    inspected: InspectedConnection | undefined,
  ): void {
    if (socket.destroyed) return;
    if (inspected?.serverName !== undefined) streamInfo.requestedServerName = inspected.serverName;
    const selected = selectFilterChain(
      listener.chains.map((c) => c.chain),
      {
        ...addresses,
        serverName: inspected?.serverName,
        transportProtocol: inspected?.transportProtocol,
        applicationProtocols: inspected?.applicationProtocols,
      },
      listener.defaultChain?.chain,
    );
    const entry = listener.chains.find((c) => c.chain === selected) ?? (selected === undefined ? undefined : listener.defaultChain);
    if (entry === undefined) {
      listener.stats.no_filter_chain_match.inc();
      socket.destroy();
      return;
    }
    const tls = entry.tls;
    if (tls === undefined) {
      this.#run(listener, entry, { socket, streamInfo, listener: listener.info, hops });
      return;
    }
    void tls.secure(socket, `[C${streamInfo.connectionId ?? 0}]`).then((secured) => {
      if (secured === undefined) return;
      streamInfo.downstreamTls = connectionTlsInfo(secured);
      streamInfo.requestedServerName ??= typeof secured.servername === 'string' ? secured.servername : undefined;
      this.#run(listener, entry, { socket: secured, streamInfo, listener: listener.info, hops });
    });
  }

  #run(listener: ActiveListener, entry: ActiveChain, connection: DownstreamConnection): void {
    try {
      entry.handler(connection);
    } catch (error) {
      // A filter's bug must not take other connections down with it.
      this.#log('connection')('error', `[${listener.info.name}] filter failed on a new connection: ${(error as Error).stack ?? String(error)}`);
      connection.socket.destroy();
    }
  }
}

/** A Unix socket file left by a previous run would make bind fail; Envoy removes it first. */
function removeStaleSocket(path: string): void {
  if (path.startsWith('\0') || !existsSync(path)) return;
  if (statSync(path).isSocket()) unlinkSync(path);
}
