import {
  HTTP_PROTOCOL_OPTIONS_KEY,
  type Address,
  type Cluster,
  type Http2ProtocolOptions,
  type Http1ProtocolOptions,
  type CommonHttpProtocolOptions,
  type UpstreamHttpProtocolOptions,
  type LbEndpoint,
  type Secret,
} from '@il/config/runtime';
import { dial, type ConnectionSocket } from '../network/dial.js';
import type { InternalListenerRegistry } from '../network/internal-listener-registry.js';
import { PassthroughState } from '../network/passthrough-state.js';
import type { DynamicMetadata, FilterState } from '../stream-info/filter-state.js';
import { allocateConnectionId } from '../stream-info/stream-info.js';
import type { Scope } from '../stats/store.js';
import { ClusterStats } from './cluster-stats.js';
import type { DnsResolver } from './dns-resolver.js';
import { Host } from './host.js';
import { createLoadBalancer, type LoadBalancer } from './load-balancer.js';
import { ResourceManager } from './resource-manager.js';
import { SslStats } from '../transport-sockets/tls/ssl-stats.js';
import type { TlsContext } from '../transport-sockets/tls/tls-context.js';
import { secureUpstream } from '../transport-sockets/tls/upstream-tls.js';
import { UpstreamTransport } from '../transport-sockets/tls/upstream-transport.js';
import type { TransportSocketOptions } from '../transport-sockets/transport-socket-options.js';

/** Which HTTP version requests and tunnels to this cluster use (envoy-behavior.md §1.7). */
export type UpstreamHttpProtocol = 'http1' | 'http2' | 'downstream' | 'auto';

/** Envoy's panic threshold: below half healthy, load goes to every host. */
const PANIC_THRESHOLD = 0.5;

export interface ClusterContext {
  scope: Scope;
  registry: InternalListenerRegistry | undefined;
  /** static_resources.secrets, which TLS contexts name through SDS configs. */
  secrets: readonly Secret[];
  dnsResolver: DnsResolver;
  onLog?: ((level: 'debug' | 'info' | 'warn', message: string) => void) | undefined;
}

export interface NewConnectionOptions {
  /** Internal hops of the downstream connection this upstream serves. */
  hops?: number | undefined;
  /** The downstream's filter state, whose shared objects an internal_upstream socket carries. */
  downstreamFilterState?: FilterState | undefined;
  /** A raw TCP session counts toward the host's load for LEAST_REQUEST. */
  tcpSession?: boolean | undefined;
  allowHalfOpen?: boolean | undefined;
  /** SNI and SAN overrides for a TLS transport socket (the router's auto_sni, auto_san_validation). */
  transportSocketOptions?: TransportSocketOptions | undefined;
}

export type ConnectFailure = 'overflow' | 'no_healthy_upstream';

/**
 * One connection to one host, with its stats wired: Envoy's upstream_cx_* counters and
 * histograms for the cluster and the host, the circuit breaker's connection budget.
 */
export class UpstreamConnection {
  readonly id = allocateConnectionId();
  readonly startedMs = performance.now();
  connected = false;
  #countedRx = 0;
  #countedTx = 0;

  constructor(
    readonly socket: ConnectionSocket,
    readonly host: Host,
    readonly cluster: UpstreamCluster,
  ) {}

  /** Adds bytes moved since the last call to the cluster's rx/tx totals. */
  flushByteStats(): void {
    const rx = this.socket.bytesRead;
    const tx = this.socket.bytesWritten;
    const counters = this.cluster.stats.counters;
    if (rx > this.#countedRx) counters.upstream_cx_rx_bytes_total.inc(rx - this.#countedRx);
    if (tx > this.#countedTx) counters.upstream_cx_tx_bytes_total.inc(tx - this.#countedTx);
    this.#countedRx = rx;
    this.#countedTx = tx;
  }
}

/**
 * A running cluster: its hosts (static, or kept current by DNS), its load balancer, circuit
 * breakers and stats, and the one way to open a connection to one of its hosts.
 */
export class UpstreamCluster {
  readonly name: string;
  readonly config: Cluster;
  readonly stats: ClusterStats;
  readonly resources: ResourceManager;
  readonly httpProtocol: UpstreamHttpProtocol;
  readonly connectTimeoutMs: number;
  readonly #context: ClusterContext;
  readonly #lb: LoadBalancer;
  readonly #transport: UpstreamTransport;
  /** `cluster.<name>.ssl.*`, when some host is reached over TLS. */
  readonly #sslStats: SslStats | undefined;
  readonly #active = new Set<UpstreamConnection>();
  #hosts: Host[] = [];
  #refreshTimer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(config: Cluster, context: ClusterContext) {
    this.name = config.name;
    this.config = config;
    this.#context = context;
    this.stats = new ClusterStats(context.scope.taggedScope('cluster', config.name, 'envoy_cluster_name'));
    const defaults = config.circuit_breakers.thresholds.find((t) => t.priority === 'DEFAULT');
    if (defaults === undefined) throw new Error(`cluster '${config.name}' has no DEFAULT circuit breaker thresholds`);
    const g = this.stats.gauges;
    this.resources = new ResourceManager(defaults, {
      cx: g['circuit_breakers.default.cx_open'],
      rqPending: g['circuit_breakers.default.rq_pending_open'],
      rq: g['circuit_breakers.default.rq_open'],
      retry: g['circuit_breakers.default.rq_retry_open'],
    });
    this.httpProtocol = upstreamHttpProtocol(config);
    this.connectTimeoutMs = config.connect_timeout.ms;
    this.#lb = createLoadBalancer(config.lb_policy as 'ROUND_ROBIN' | 'RANDOM' | 'LEAST_REQUEST');
    this.#transport = new UpstreamTransport(config, context.secrets, defaultAlpn(this.httpProtocol));
    this.#sslStats = this.#transport.any ? new SslStats(this.stats.scope) : undefined;
    if (config.type === 'STATIC') this.#setHosts(this.#staticHosts());
  }

  hosts(): readonly Host[] {
    return this.#hosts;
  }

  /** The TLS contexts of this cluster's transport sockets (admin /certs). */
  tlsContexts(): TlsContext[] {
    return this.#transport.contexts();
  }

  /** Connections open right now. */
  get activeConnections(): number {
    return this.#active.size;
  }

  /** HTTP/2 settings for requests and tunnels to this cluster (when httpProtocol is http2). */
  get http2Options(): Http2ProtocolOptions | undefined {
    const options = this.#protocolOptions();
    return (options?.explicit_http_config ?? options?.auto_config ?? options?.use_downstream_protocol_config)?.http2_protocol_options;
  }

  get http1Options(): Http1ProtocolOptions | undefined {
    const options = this.#protocolOptions();
    return (options?.explicit_http_config ?? options?.auto_config ?? options?.use_downstream_protocol_config)?.http_protocol_options;
  }

  get commonHttpOptions(): CommonHttpProtocolOptions | undefined {
    return this.#protocolOptions()?.common_http_protocol_options;
  }

  /** auto_sni, auto_san_validation and override_auto_sni_header, read by the router per request. */
  get upstreamHttpOptions(): UpstreamHttpProtocolOptions['upstream_http_protocol_options'] {
    return this.#protocolOptions()?.upstream_http_protocol_options;
  }

  /** Resolves DNS clusters once and starts their refresh; STATIC clusters are ready at once. */
  async initialize(): Promise<void> {
    if (this.config.type === 'STATIC') return;
    await this.#refreshDns();
    if (this.#closed) return;
    this.#refreshTimer = setInterval(() => void this.#refreshDns(), this.config.dns_refresh_rate.ms);
    this.#refreshTimer.unref();
  }

  /**
   * The host the load balancer picks for the next connection or request, among healthy hosts
   * (all hosts below the panic threshold). Undefined when the cluster has no host.
   */
  chooseHost(): Host | undefined {
    const hosts = this.#hosts;
    if (hosts.length === 0) return undefined;
    const healthy = hosts.filter((h) => h.healthy);
    return this.#lb.choose(healthy.length >= hosts.length * PANIC_THRESHOLD && healthy.length > 0 ? healthy : hosts);
  }

  /**
   * Picks a host and connects to it. Fails without connecting when the cluster has no host
   * (`upstream_cx_none_healthy`) or its connection budget is spent (`upstream_cx_overflow`).
   */
  connect(options: NewConnectionOptions = {}): UpstreamConnection | ConnectFailure {
    const host = this.chooseHost();
    if (host === undefined) {
      this.stats.counters.upstream_cx_none_healthy.inc();
      return 'no_healthy_upstream';
    }
    return this.newConnection(host, options);
  }

  /** Opens a connection to a given host, counting it against the circuit breaker. */
  newConnection(host: Host, options: NewConnectionOptions = {}): UpstreamConnection | 'overflow' {
    if (!this.resources.connections.canCreate()) {
      this.stats.counters.upstream_cx_overflow.inc();
      return 'overflow';
    }
    const raw = dial(host.address, {
      registry: this.#context.registry,
      hops: options.hops,
      passthroughState: this.#passthroughState(host, options.downstreamFilterState),
      allowHalfOpen: options.allowHalfOpen,
      connectTimeoutMs: this.connectTimeoutMs,
    });
    const tls = this.#sslStats === undefined ? undefined : this.#transport.forHost(host.metadata);
    const socket: ConnectionSocket = tls === undefined || this.#sslStats === undefined ? raw : secureUpstream(raw, tls, this.#sslStats, host.hostname, options.transportSocketOptions);
    const connection = new UpstreamConnection(socket, host, this);
    this.#track(connection, options.tcpSession === true);
    return connection;
  }

  close(): void {
    this.#closed = true;
    if (this.#refreshTimer !== undefined) clearInterval(this.#refreshTimer);
  }

  /** Adds the bytes moved by open connections to the rx/tx totals (called periodically). */
  flushByteStats(): void {
    for (const connection of this.#active) connection.flushByteStats();
  }

  #track(connection: UpstreamConnection, tcpSession: boolean): void {
    const { socket, host } = connection;
    const counters = this.stats.counters;
    const gauges = this.stats.gauges;
    this.resources.connections.acquire();
    this.#active.add(connection);
    counters.upstream_cx_total.inc();
    gauges.upstream_cx_active.inc();
    host.stats.cx_total++;
    host.stats.cx_active++;
    if (tcpSession) host.activeTcpSessions++;
    let remoteEnded = false;
    let timedOut = false;
    socket.once('connect', () => {
      connection.connected = true;
      this.stats.upstream_cx_connect_ms.record(performance.now() - connection.startedMs);
    });
    socket.once('end', () => (remoteEnded = true));
    socket.once('error', (error: NodeJS.ErrnoException) => {
if (error.code === 'ETIMEDOUT' && !connection.connected) timedOut = true;
    });
    socket.once('close', () => {
      this.#active.delete(connection);
      this.resources.connections.release();
      connection.flushByteStats();
      gauges.upstream_cx_active.dec();
      host.stats.cx_active--;
      if (tcpSession) host.activeTcpSessions--;
if (!connection.connected) {
        if (timedOut) counters.upstream_cx_connect_timeout.inc();
        counters.upstream_cx_connect_fail.inc();
        host.stats.cx_connect_fail++;
        return;
      }
      counters.upstream_cx_destroy.inc();
      if (remoteEnded || socket.errored !== null) counters.upstream_cx_destroy_remote.inc();
      else counters.upstream_cx_destroy_local.inc();
      this.stats.upstream_cx_length_ms.record(performance.now() - connection.startedMs);
    });
  }

  /**
   * Envoy's internal_upstream transport socket: for an internal host, copies the configured
   * host/cluster metadata namespaces and the downstream's shared filter state to the internal
   * listener. Without that transport socket, nothing is passed (test BasicFlowWithoutTransportSocket).
   */
  #passthroughState(host: Host, downstreamFilterState: FilterState | undefined): PassthroughState | undefined {
    if (host.address.envoy_internal_address === undefined) return undefined;
    const transport = this.config.transport_socket?.typed_config;
    if (transport === undefined || !('passthrough_metadata' in transport)) return undefined;
    const metadata: DynamicMetadata = {};
    for (const source of transport.passthrough_metadata) {
      const from = source.kind.host !== undefined ? host.metadata : this.config.metadata;
      const value = from?.filter_metadata[source.name];
      if (value === undefined) this.stats.counters['internal_upstream.no_metadata'].inc();
      else metadata[source.name] = value;
    }
    return PassthroughState.capture(downstreamFilterState === undefined ? { metadata } : { metadata, filterState: downstreamFilterState });
  }

  #protocolOptions() {
    return this.config.typed_extension_protocol_options?.[HTTP_PROTOCOL_OPTIONS_KEY];
  }

  #staticHosts(): Host[] {
    const hosts: Host[] = [];
    for (const locality of this.config.load_assignment?.endpoints ?? []) {
      for (const lbEndpoint of locality.lb_endpoints) {
        if (lbEndpoint.endpoint === undefined) continue;
        hosts.push(
          new Host({
            address: lbEndpoint.endpoint.address,
            hostname: lbEndpoint.endpoint.hostname,
            weight: lbEndpoint.load_balancing_weight,
            metadata: lbEndpoint.metadata,
            healthStatus: lbEndpoint.health_status,
          }),
        );
      }
    }
    return hosts;
  }

  #setHosts(hosts: Host[]): void {
    const changed =
      hosts.length !== this.#hosts.length || hosts.some((h, i) => h.addressString !== this.#hosts[i]?.addressString);
    this.#hosts = hosts;
    if (changed) this.stats.counters.membership_change.inc();
    this.stats.gauges.membership_total.set(hosts.length);
    this.stats.gauges.membership_healthy.set(hosts.filter((h) => h.healthy).length);
    this.stats.gauges.membership_degraded.set(hosts.filter((h) => h.healthStatus === 'DEGRADED').length);
  }

  /**
   * STRICT_DNS: every address of every endpoint name is a host. LOGICAL_DNS: one host (the
   * single endpoint), whose address follows the first address DNS returns. A failed lookup
   * keeps the previous hosts, as Envoy does.
   */
  async #refreshDns(): Promise<void> {
    const counters = this.stats.counters;
    counters.update_attempt.inc();
    const family = this.config.dns_lookup_family;
    try {
      const resolved: Resolution[] = [];
      const endpoints = (this.config.load_assignment?.endpoints ?? []).flatMap((l) => l.lb_endpoints);
      for (const endpoint of endpoints) {
        const socketAddress = endpoint.endpoint?.address.socket_address;
        if (socketAddress === undefined) continue;
        resolved.push({ endpoint, addresses: await this.#context.dnsResolver(socketAddress.address, family) });
      }
      if (this.#closed) return;
      if (this.config.type === 'LOGICAL_DNS') this.#applyLogicalDns(resolved);
      else this.#applyStrictDns(resolved);
      counters.update_success.inc();
      if (this.#hosts.length === 0) counters.update_empty.inc();
    } catch (error) {
      counters.update_failure.inc();
      this.#context.onLog?.('warn', `cluster '${this.name}': DNS resolution failed: ${(error as Error).message}`);
    }
  }

  #applyStrictDns(resolved: readonly Resolution[]): void {
    const hosts: Host[] = [];
    for (const { endpoint, addresses } of resolved) {
      const socketAddress = endpoint.endpoint?.address.socket_address;
      if (socketAddress === undefined) continue;
      for (const ip of addresses) {
        hosts.push(
          new Host({
            address: withIp(socketAddress, ip),
            hostname: socketAddress.address,
            weight: endpoint.load_balancing_weight,
            metadata: endpoint.metadata,
            healthStatus: endpoint.health_status,
          }),
        );
      }
    }
    this.#setHosts(hosts);
  }

  #applyLogicalDns(resolved: readonly Resolution[]): void {
    const first = resolved[0];
    const socketAddress = first?.endpoint.endpoint?.address.socket_address;
    const ip = first?.addresses[0];
    if (first === undefined || socketAddress === undefined || ip === undefined) {
      this.#setHosts([]);
      return;
    }
    const current = this.#hosts[0];
    if (current !== undefined) {
      current.updateAddress(withIp(socketAddress, ip));
      this.#setHosts([current]);
    } else {
      this.#setHosts([new Host({ address: withIp(socketAddress, ip), hostname: socketAddress.address, weight: first.endpoint.load_balancing_weight })]);
    }
  }
}

/** The addresses DNS gave for one endpoint. */
interface Resolution {
  endpoint: LbEndpoint;
  addresses: string[];
}

function withIp(socketAddress: NonNullable<Address['socket_address']>, ip: string): Address {
  return { socket_address: { ...socketAddress, address: ip } };
}

/**
 * §1.7: HTTP/2 if the cluster's protocol options say so, the downstream's protocol if asked,
 * whatever ALPN picks per host with auto_config, else HTTP/1.1.
 */
export function upstreamHttpProtocol(config: Cluster): UpstreamHttpProtocol {
  const options = config.typed_extension_protocol_options?.[HTTP_PROTOCOL_OPTIONS_KEY];
  if (options?.explicit_http_config?.http2_protocol_options !== undefined) return 'http2';
  if (options?.use_downstream_protocol_config !== undefined) return 'downstream';
  if (options?.auto_config !== undefined) return 'auto';
  return 'http1';
}

/** The ALPN an UpstreamTlsContext without alpn_protocols offers (Envoy's, by the cluster's HTTP protocol). */
function defaultAlpn(protocol: UpstreamHttpProtocol): string[] {
  switch (protocol) {
    case 'http2':
      return ['h2'];
    case 'http1':
      return ['http/1.1'];
    case 'auto':
      return ['h2', 'http/1.1'];
    case 'downstream':
      return [];
  }
}
