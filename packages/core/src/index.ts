export { internalAddressString } from './network/address.js';
export { InternalSocket, DEFAULT_BUFFER_SIZE_BYTES, INTERNAL_CLIENT_ADDRESS } from './network/internal-socket.js';
export {
  InternalListenerRegistry,
  InternalListener,
  type InternalListenerRegistryOptions,
  type InternalListenOptions,
  type InternalConnectOptions,
  type InternalListenerAddress,
  type InternalConnectionHandler,
} from './network/internal-listener-registry.js';
export { PassthroughState } from './network/passthrough-state.js';
export { type SocketError } from './network/socket-errors.js';
export {
  FilterState,
  mergeMetadata,
  type DynamicMetadata,
  type FilterStateObject,
  type SetFilterStateOptions,
  type SharedFilterStateObject,
  type StreamSharing,
} from './stream-info/filter-state.js';
export { dial, hopsOf, type DialOptions, type ConnectionSocket } from './network/dial.js';
export { Counter, Gauge, Histogram, DEFAULT_BUCKETS, type HistogramUnit, type StatInfo, type Tags } from './stats/stat.js';
export { Store, Scope } from './stats/store.js';
export {
  StreamInfo,
  RESPONSE_FLAGS,
  allocateConnectionId,
  type ResponseFlag,
  type ResponseFlagName,
  type DetectedCloseType,
  type HeaderMap,
} from './stream-info/stream-info.js';
export {
  connectionAddresses,
  formatAddress,
  formatAddressWithoutPort,
  addressPort,
  type ConnectionAddress,
} from './network/connection-address.js';
export { ClusterManager, type ClusterManagerOptions } from './upstream/cluster-manager.js';
export {
  UpstreamCluster,
  UpstreamConnection,
  upstreamHttpProtocol,
  type UpstreamHttpProtocol,
  type NewConnectionOptions,
  type ConnectFailure,
} from './upstream/cluster.js';
export { ClusterStats, type ClusterCounterName, type ClusterGaugeName } from './upstream/cluster-stats.js';
export { Host, type HostStats, type HealthStatus } from './upstream/host.js';
export {
  RoundRobinLoadBalancer,
  RandomLoadBalancer,
  LeastRequestLoadBalancer,
  createLoadBalancer,
  type LoadBalancer,
} from './upstream/load-balancer.js';
export { ResourceManager, Resource } from './upstream/resource-manager.js';
export { systemDnsResolver, pickFamily, type DnsResolver, type DnsLookupFamily } from './upstream/dns-resolver.js';
export { ListenerManager, type ListenerManagerOptions } from './network/listener-manager.js';
export { ListenerStats } from './network/listener-stats.js';
export { DrainManager, type DrainStrategy } from './network/drain-manager.js';
export { selectFilterChain, type MatchInput } from './network/filter-chain-match.js';
export type {
  NetworkFilterFactory,
  NetworkFilterFactoryContext,
  ConfigFinding,
  ConnectionHandler,
  DownstreamConnection,
  ListenerInfo,
  ComponentLog,
  LogLevel,
} from './network/network-filter.js';
export {
  compileFormat,
  compileJsonFormat,
  compileLogFormat,
  DEFAULT_HTTP_ACCESS_LOG_FORMAT,
  type Formatter,
  type FormatOptions,
} from './formatter/formatter.js';
export { type FormatContext } from './formatter/operators.js';
export { FormatError, type FormatErrorDetails } from './formatter/format-error.js';
export { createAccessLoggers, validateAccessLogs, type AccessLogger, type CreateAccessLoggersOptions } from './access-log/access-loggers.js';
export { validateNetworkFilters } from './network/filter-validation.js';
export { subjectAltNames, type TlsContext } from './transport-sockets/tls/tls-context.js';
export { connectionTlsInfo, type ConnectionTlsInfo } from './transport-sockets/tls/tls-info.js';
export { transportSocketOptionsKey, type TransportSocketOptions } from './transport-sockets/transport-socket-options.js';
export { AccessLogFileManager, AccessLogFile, type AccessLogFileManagerOptions } from './access-log/file-manager.js';
export { Runtime, type RuntimeOptions } from './runtime.js';
export {
  tcpUpstreamConnector,
  type UpstreamConnector,
  type UpstreamHandle,
  type UpstreamRequest,
  type UpstreamStream,
} from './upstream/upstream-connector.js';
