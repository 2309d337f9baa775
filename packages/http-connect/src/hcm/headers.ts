import { isIP } from 'node:net';
import type { HeaderMap } from '@il/core';

/** A header list as node:http's writeHead takes it: name, value, name, value... (names lower-case). */
export type HeaderList = string[];

/** Connection-specific headers, never forwarded (RFC 9110 §7.6.1; Envoy's mutateRequestHeaders/mutateResponseHeaders). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'http2-settings']);

export function isHopByHop(name: string): boolean {
  return HOP_BY_HOP.has(name);
}

/** The first value of a header, or undefined. */
export function firstValue(headers: HeaderMap, name: string): string | undefined {
  const value = headers[name];
  return typeof value === 'string' ? value : value?.[0];
}

/** Removes a header by (lower-case) name. */
export function removeHeader(headers: HeaderMap, name: string): void {
  Reflect.deleteProperty(headers, name);
}

/** Adds a value, keeping earlier ones (a second value turns the entry into a list). */
export function appendValue(headers: HeaderMap, name: string, value: string): void {
  const existing = headers[name];
  if (existing === undefined) headers[name] = value;
  else if (typeof existing === 'string') headers[name] = [existing, value];
  else existing.push(value);
}

/**
 * A header map from node:http's raw list (`rawHeaders`): names lower-cased, repeated headers kept
 * as lists (node's `req.headers` would join or drop some of them). `underscores` applies
 * `headers_with_underscores_action` DROP_HEADER.
 */
export function headerMapFromRaw(raw: readonly string[], dropUnderscores: boolean): HeaderMap {
  const headers: HeaderMap = Object.create(null) as HeaderMap;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase();
    if (dropUnderscores && name.includes('_')) continue;
    appendValue(headers, name, raw[i + 1] as string);
  }
  return headers;
}

/** Whether a header list names a connection option, as Envoy's caseFindToken. */
export function hasToken(value: string | string[] | undefined, token: string): boolean {
  if (value === undefined) return false;
  const values = typeof value === 'string' ? [value] : value;
  for (const v of values) {
    for (const part of v.split(',')) if (part.trim().toLowerCase() === token) return true;
  }
  return false;
}

/** The headers (pseudo-headers and hop-by-hop ones left out) as a flat list for undici or node:http. */
export function toHeaderList(headers: HeaderMap, skip?: (name: string) => boolean): HeaderList {
  const list: HeaderList = [];
  for (const name in headers) {
    if (name.charCodeAt(0) === 58 /* ':' */ || HOP_BY_HOP.has(name)) continue;
    if (skip?.(name) === true) continue;
    const value = headers[name];
    if (value === undefined) continue;
    if (typeof value === 'string') list.push(name, value);
    else for (const v of value) list.push(name, v);
  }
  return list;
}

/** The headers as node:http2 takes them (an object; repeated headers as arrays), pseudo and hop-by-hop ones left out. */
export function toHttp2Headers(headers: HeaderMap, into: Record<string, string | string[] | number>): Record<string, string | string[] | number> {
  for (const name in headers) {
    if (name.charCodeAt(0) === 58 /* ':' */ || HOP_BY_HOP.has(name)) continue;
    const value = headers[name];
    if (value !== undefined) into[name] = value;
  }
  return into;
}

/** Envoy's isInternalAddress: RFC 1918, loopback, and IPv6 unique-local / loopback addresses. */
export function isInternalIp(ip: string): boolean {
  const family = isIP(ip);
  if (family === 4) {
    const [a = 0, b = 0] = ip.split('.').map(Number);
    return a === 10 || a === 127 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168);
  }
  if (family === 6) {
    const lower = ip.toLowerCase();
    if (lower === '::1') return true;
    if (lower.startsWith('::ffff:')) return isInternalIp(lower.slice(7));
    return lower.startsWith('fc') || lower.startsWith('fd');
  }
  return false;
}

/**
 * The client address Envoy takes from x-forwarded-for when it does not use the remote address:
 * the entry `trustedHops` from the right. undefined when the header is absent or that entry is
 * not an IP. `single` says whether XFF had exactly one address.
 */
export function addressFromXff(headers: HeaderMap, trustedHops: number): { ip: string | undefined; single: boolean } {
  const value = headers['x-forwarded-for'];
  if (value === undefined) return { ip: undefined, single: false };
  const entries = (typeof value === 'string' ? value : value.join(',')).split(',').map((e) => e.trim());
  const index = entries.length - 1 - trustedHops;
  const candidate = index >= 0 ? entries[index] : undefined;
  return { ip: candidate !== undefined && isIP(candidate) !== 0 ? candidate : undefined, single: entries.length === 1 };
}

let cachedDate = '';
let cachedDateSecond = -1;

/** The IMF-fixdate for now, computed once a second. */
export function httpDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== cachedDateSecond) {
    cachedDateSecond = second;
    cachedDate = new Date(now).toUTCString();
  }
  return cachedDate;
}
