// @il/http-connect: the HTTP connection manager and router (route/, hcm/), CONNECT termination,
// HTTP/2 connection pools (upstream/) and TcpProxy's HTTP tunneling upstreams (tunneling/).
export * from './route/index.js';
export * from './hcm/index.js';
export * from './upstream/index.js';
export * from './tunneling/index.js';
