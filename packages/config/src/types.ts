/** Every type @il/config exports, shared by the package root and `@il/config/runtime`. */
export type { ConfigSource, LoadOptions, LoadedConfig } from './load.js';
export type { ConfigIssue, ConfigWarning, SourceLocation } from './issues.js';
export type { Bootstrap, Admin, StaticResources, BootstrapExtension, LayeredRuntime } from './api/bootstrap.js';
export type { Address, SocketAddress, Pipe, EnvoyInternalAddress, Metadata, Locality, Node, HeaderValueOption, DataSource, BackoffStrategy, Percent } from './api/core.js';
export type { Listener, FilterChain, FilterChainMatch, NetworkFilter, NetworkFilterConfig } from './api/listener.js';
export type { Cluster, ClusterLoadAssignment, LocalityLbEndpoints, LbEndpoint, CircuitBreakers, Thresholds, UpstreamHttpProtocolOptions } from './api/cluster.js';
export type { Http1ProtocolOptions, Http2ProtocolOptions, CommonHttpProtocolOptions } from './api/protocol.js';
export type { TcpProxy, TunnelingConfig, UuidRequestIdConfig } from './api/tcp-proxy.js';
export type { HttpConnectionManager, HttpFilter, HcmUpgradeConfig } from './api/http-connection-manager.js';
export type { Router, HttpFilterConfig } from './api/router.js';
export type {
  RouteConfiguration,
  VirtualHost,
  Route,
  RouteMatch,
  RouteAction,
  RouteUpgradeConfig,
  WeightedCluster,
  DirectResponseAction,
  RedirectAction,
  HeaderMatcher,
  QueryParameterMatcher,
} from './api/route.js';
export type { StringMatcher, RegexMatcher } from './api/matcher.js';
export type { AccessLog, FileAccessLog, StdoutAccessLog, StderrAccessLog, SubstitutionFormatString } from './api/access-log.js';
export type { InternalListener, BootstrapExtensionConfig } from './api/internal-listener.js';
export type { InternalUpstreamTransport, RawBuffer, DownstreamTransportSocket, ClusterTransportSocket, TransportSocketMatch } from './api/transport-socket.js';
export type {
  CertificateValidationContext,
  CommonTlsContext,
  DownstreamTlsContext,
  SdsSecretConfig,
  Secret,
  SubjectAltNameMatcher,
  TlsCertificate,
  TlsInspector,
  TlsParameters,
  TlsProtocol,
  UpstreamTlsContext,
} from './api/tls.js';
