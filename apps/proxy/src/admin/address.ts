/** An address string as Envoy's admin JSON shows an `envoy.config.core.v3.Address`. */

const INTERNAL = /^envoy:\/\/([^/]*)\/(.*)$/;
const IPV6 = /^\[([^\]]+)\]:(\d+)$/;
const HOST_PORT = /^([^:/\s]+):(\d+)$/;

export function addressToJson(address: string): Record<string, unknown> {
  const internal = INTERNAL.exec(address);
  if (internal) {
    const [, name = '', endpointId = ''] = internal;
    return { envoy_internal_address: { server_listener_name: name, ...(endpointId === '' ? {} : { endpoint_id: endpointId }) } };
  }
  const ip = IPV6.exec(address) ?? HOST_PORT.exec(address);
  if (ip) {
    const [, host = '', port = '0'] = ip;
    return { socket_address: { address: host, port_value: Number(port) } };
  }
  return { pipe: { path: address } };
}
