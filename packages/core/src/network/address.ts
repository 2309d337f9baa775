/** Envoy's string for an internal address: `envoy://<listener>/<endpoint_id>`, keeping the `/`. */
export function internalAddressString(serverListenerName: string, endpointId = ''): string {
  return `envoy://${serverListenerName}/${endpointId}`;
}
