import { isIPv6 } from 'node:net';

/**
 * Envoy's `config.core.v3.Address`, as @il/config produces it (proto field names): exactly one of
 * a TCP socket address, a Unix pipe, or an internal listener address.
 */
export interface SocketAddress {
  readonly address: string;
  readonly port_value: number;
  readonly protocol?: 'TCP';
}
export interface PipeAddress {
  readonly path: string;
  readonly mode?: number;
}
export interface EnvoyInternalAddress {
  readonly server_listener_name: string;
  readonly endpoint_id?: string;
}
export type Address =
  | { readonly socket_address: SocketAddress }
  | { readonly pipe: PipeAddress }
  | { readonly envoy_internal_address: EnvoyInternalAddress };

/** Envoy's string for an internal address: `envoy://<listener>/<endpoint_id>`, keeping the `/`. */
export function internalAddressString(serverListenerName: string, endpointId = ''): string {
  return `envoy://${serverListenerName}/${endpointId}`;
}

/** `127.0.0.1:80`, `[::1]:80`, a pipe's path, or `envoy://listener/id`: Envoy's `asString()`. */
export function addressToString(address: Address): string {
  if ('socket_address' in address) {
    const { address: host, port_value } = address.socket_address;
    return isIPv6(host) ? `[${host}]:${port_value}` : `${host}:${port_value}`;
  }
  if ('pipe' in address) return address.pipe.path;
  const { server_listener_name, endpoint_id } = address.envoy_internal_address;
  return internalAddressString(server_listener_name, endpoint_id);
}

export function isInternalAddress(address: Address): address is { readonly envoy_internal_address: EnvoyInternalAddress } {
  return 'envoy_internal_address' in address;
}
