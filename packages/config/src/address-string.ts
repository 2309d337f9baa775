import { isIP } from 'node:net';
import type { Address } from './api/core.js';

/**
 * Envoy's string form of an address, as used in its log lines, errors and stats:
 * `127.0.0.1:10000`, `[::1]:10000`, the pipe path, or `envoy://<listener>/<endpoint id>`.
 */
export function addressString(a: Address): string {
  if (a.socket_address) {
    const { address: host, port_value: port } = a.socket_address;
    return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
  }
  if (a.pipe) return a.pipe.path;
  if (a.envoy_internal_address) return `envoy://${a.envoy_internal_address.server_listener_name}/${a.envoy_internal_address.endpoint_id}`;
  return '';
}
