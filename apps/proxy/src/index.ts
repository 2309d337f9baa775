export { ProxyServer, componentLog } from './server/proxy-server.js';
export { networkFilterFactories } from './server/filter-factories.js';
export { adminContext } from './server/admin-context.js';
export * from './cli/index.js';
export * from './admin/index.js';
export * from './logging/index.js';
