export { tcpProxyFactory, compileTcpProxy, TCP_PROXY_TYPE_URL, type TcpProxyFactoryOptions, type TunnelConnectorFactory } from './tcp-proxy-factory.js';
export { TcpProxySession, type TcpProxySettings } from './tcp-proxy-session.js';
export { TcpProxyStats } from './tcp-proxy-stats.js';
export { RouteSelector } from './route.js';
export { JitteredBackoff } from './backoff.js';
export { FilterStateKeys } from './filter-state-keys.js';
