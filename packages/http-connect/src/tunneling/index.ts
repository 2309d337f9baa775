// TcpProxy's HTTP tunneling upstreams (CONNECT / POST over HTTP/2 or HTTP/1.1).
export { createTunnelConnector, validateTunnelingConfig, TCP_PROXY_METADATA_NAMESPACE, type TunnelConnectorOptions } from './tunnel-connector.js';
export { TunnelStream } from './tunnel-stream.js';
export { TunnelResponseHeaderMap, TUNNEL_RESPONSE_HEADERS_KEY, TUNNEL_RESPONSE_TRAILERS_KEY } from './tunnel-response-headers.js';
