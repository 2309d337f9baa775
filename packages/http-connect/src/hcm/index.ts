// The HTTP connection manager, its router and CONNECT termination; re-exported by ../index.ts.
export { httpConnectionManagerFactory, HTTP_CONNECTION_MANAGER_TYPE_URL } from './factory.js';
export { compileHttpConnectionManager, validateHttpConnectionManager, type HcmSettings } from './settings.js';
export { HcmStats, type HcmCounterName, type HcmGaugeName } from './stats.js';
export { ResponseCodeDetails, upstreamResetBody, connectFailureReason, type ResetReason } from './local-reply.js';
export { proxyProtocolHeader } from '../connect/proxy-protocol.js';
export { Http1ConnectionPools, sharedHttp1ConnectionPools } from '../router/http1-pools.js';
