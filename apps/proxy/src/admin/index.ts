export { startAdmin, type AdminServer, type AdminAddress, type AdminOptions } from './server.js';
export type { AdminContext, ServerInfo, ServerState, ClusterStatus, ClusterHostStatus, ListenerStatus, CertificateSet, CertificateSource } from './context.js';
export { renderPrometheus, metricName, PROMETHEUS_CONTENT_TYPE } from './prometheus.js';
export { renderStatsText, renderStatsJson, parseStatsParams, quantileSummary, type StatsParams } from './stats.js';
export { toConfigDump } from './config-dump.js';
export { reportedState } from './endpoints.js';
export { renderCerts } from './certs.js';
