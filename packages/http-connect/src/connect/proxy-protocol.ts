import { isIPv4, isIPv6 } from 'node:net';
import type { ConnectionAddress } from '@il/core';

const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);

/**
 * The PROXY protocol header a terminated CONNECT writes first when its route has
 * `connect_config.proxy_protocol_config` (Envoy's Common::ProxyProtocol::generateProxyProtoHeader):
 * the downstream's source and destination. Addresses that are not IP (pipes, internal
 * listeners) give v1 `PROXY UNKNOWN` and a v2 LOCAL header, as Envoy does.
 */
export function proxyProtocolHeader(version: 'V1' | 'V2', source: ConnectionAddress | undefined, destination: ConnectionAddress | undefined): Buffer {
  const ip = source?.kind === 'ip' && destination?.kind === 'ip' ? { source, destination } : undefined;
  const family = ip === undefined ? undefined : isIPv4(ip.source.ip) && isIPv4(ip.destination.ip) ? 4 : isIPv6(ip.source.ip) && isIPv6(ip.destination.ip) ? 6 : undefined;
  if (version === 'V1') {
    if (ip === undefined || family === undefined) return Buffer.from('PROXY UNKNOWN\r\n', 'latin1');
    return Buffer.from(`PROXY TCP${family} ${ip.source.ip} ${ip.destination.ip} ${ip.source.port} ${ip.destination.port}\r\n`, 'latin1');
  }
  if (ip === undefined || family === undefined) {
    // LOCAL command, unspecified family, no addresses.
    return Buffer.concat([V2_SIGNATURE, Buffer.from([0x20, 0x00, 0x00, 0x00])]);
  }
  const addressBytes = family === 4 ? 12 : 36;
  const header = Buffer.alloc(16 + addressBytes);
  V2_SIGNATURE.copy(header, 0);
  header[12] = 0x21; // version 2, PROXY command
  header[13] = family === 4 ? 0x11 : 0x21; // TCP over IPv4 / IPv6
  header.writeUInt16BE(addressBytes, 14);
  const ipLength = family === 4 ? 4 : 16;
  ipBytes(ip.source.ip, family).copy(header, 16);
  ipBytes(ip.destination.ip, family).copy(header, 16 + ipLength);
  header.writeUInt16BE(ip.source.port, 16 + 2 * ipLength);
  header.writeUInt16BE(ip.destination.port, 18 + 2 * ipLength);
  return header;
}

function ipBytes(ip: string, family: 4 | 6): Buffer {
  if (family === 4) return Buffer.from(ip.split('.').map(Number));
  // Expand `::` and any embedded IPv4 tail into 8 groups.
  let text = ip;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4?.[1] !== undefined) {
    const [a = 0, b = 0, c = 0, d = 0] = v4[1].split('.').map(Number);
    text = text.slice(0, -v4[1].length) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? headGroups : [...headGroups, ...new Array<string>(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups];
  const out = Buffer.alloc(16);
  groups.forEach((group, i) => out.writeUInt16BE(parseInt(group, 16) & 0xffff, i * 2));
  return out;
}
