/** Ports in an authority (`host:port`, `[v6]:port`), as Envoy's HeaderUtility reads them. */

/** The index of the ':' that starts the port, or -1. An IPv6 literal is bracketed, so its colons are not ports. */
export function portStart(authority: string): number {
  const colon = authority.lastIndexOf(':');
  if (colon === -1) return -1;
  const v6End = authority.lastIndexOf(']');
  return v6End === -1 || v6End < colon ? colon : -1;
}

const PORT = /^[0-9]{1,10}$/;

/** The port of an authority when it has a numeric one (Envoy's SimpleAtoi into a uint32), else undefined. */
export function authorityPort(authority: string): number | undefined {
  const start = portStart(authority);
  if (start === -1) return undefined;
  const text = authority.slice(start + 1);
  if (!PORT.test(text)) return undefined;
  const port = Number(text);
  return port <= 0xffffffff ? port : undefined;
}

/**
 * The authority without its port, as the HCM's strip_any_host_port (no `onlyPort`) and
 * strip_matching_host_port (`onlyPort` = the listener's port) leave it before routing. Unchanged
 * when there is no numeric port, or it is not `onlyPort`. CONNECT targets are stripped too; the HCM
 * restores the port upstream (Envoy's OriginalConnectPort).
 */
export function stripHostPort(authority: string, onlyPort?: number): string {
  const port = authorityPort(authority);
  if (port === undefined || (onlyPort !== undefined && port !== onlyPort)) return authority;
  return authority.slice(0, portStart(authority));
}
