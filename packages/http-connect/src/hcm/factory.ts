import type { HttpConnectionManager } from '@il/config/runtime';
import type { NetworkFilterFactory } from '@il/core';
import { HcmCodecs, HcmConnection } from './connection.js';
import { compileHttpConnectionManager, validateHttpConnectionManager } from './settings.js';

export const HTTP_CONNECTION_MANAGER_TYPE_URL =
  'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';

/**
 * The HTTP connection manager network filter (`envoy.filters.network.http_connection_manager`).
 * Its config is compiled once per filter chain (route table, stats, access logs, codecs); every
 * connection (TCP, Unix or internal) gets an HcmConnection that reads HTTP/1.1 or HTTP/2 from it.
 */
export function httpConnectionManagerFactory(): NetworkFilterFactory<HttpConnectionManager> {
  return {
    typeUrl: HTTP_CONNECTION_MANAGER_TYPE_URL,
    create(config, context) {
      const settings = compileHttpConnectionManager(config, context);
      const codecs = new HcmCodecs(settings);
      return (connection) => new HcmConnection(settings, codecs, connection).start();
    },
    validate: validateHttpConnectionManager,
  };
}
