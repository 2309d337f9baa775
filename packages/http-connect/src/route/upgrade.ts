/**
 * Upgrades and CONNECT (envoy-behavior.md §1.6, §4.1): which upgrade a request asks for, and whether
 * the HCM and the route allow it. Envoy's rule (HttpConnectionManagerConfig::createUpgradeFilterChain):
 * a route entry for the type decides when present (`enabled` defaults to true), else the HCM's entry
 * does; with neither, the upgrade is refused. Types compare case-insensitively.
 */
import type { RouteUpgradeConfig } from '@il/config/runtime';
import type { HeaderMap } from '@il/core';
import { RouteConfigError } from './errors.js';
import type { ConnectTermination, RouteRequest, UpgradeDecision } from './types.js';

export const NO_UPGRADE: UpgradeDecision = Object.freeze({ kind: 'none' });

/** A route's upgrade_configs, by lower-cased type, and its CONNECT termination settings. */
export interface RouteUpgrades {
  readonly enabled: ReadonlyMap<string, boolean>;
  readonly connect: ConnectTermination | undefined;
}

export const NO_ROUTE_UPGRADES: RouteUpgrades = { enabled: new Map(), connect: undefined };

export function compileRouteUpgrades(configs: readonly RouteUpgradeConfig[], path: string): RouteUpgrades {
  if (configs.length === 0) return NO_ROUTE_UPGRADES;
  const enabled = new Map<string, boolean>();
  let connect: ConnectTermination | undefined;
  configs.forEach((config, i) => {
    const type = config.upgrade_type.toLowerCase();
    if (enabled.has(type)) throw new RouteConfigError(`${path}[${i}].upgrade_type`, `Duplicate upgrade ${config.upgrade_type}`);
    enabled.set(type, config.enabled);
    if (config.connect_config !== undefined) {
      if (type !== 'connect') throw new RouteConfigError(`${path}[${i}].connect_config`, `Non-CONNECT upgrade type ${config.upgrade_type} has ConnectConfig`);
      const version = config.connect_config.proxy_protocol_config?.version;
      connect = version === undefined ? { allowPost: config.connect_config.allow_post } : { allowPost: config.connect_config.allow_post, proxyProtocolVersion: version };
    }
  });
  return { enabled, connect };
}

/** The HCM's upgrade_configs by lower-cased type. Throws Envoy's error for a type listed twice. */
export function compileHcmUpgrades(configs: ReadonlyArray<{ upgrade_type: string; enabled: boolean }>): ReadonlyMap<string, boolean> {
  const enabled = new Map<string, boolean>();
  for (const config of configs) {
    const type = config.upgrade_type.toLowerCase();
    if (enabled.has(type)) throw new RouteConfigError('upgrade_configs', `Error: multiple upgrade configs with the same name: '${config.upgrade_type}'`);
    enabled.set(type, config.enabled);
  }
  return enabled;
}

function firstValue(headers: HeaderMap, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Whether a comma-separated header value has `token` (case-insensitive), as Envoy's caseFindToken. */
function hasToken(value: string | undefined, token: string): boolean {
  if (value === undefined) return false;
  return value.split(',').some((part) => part.trim().toLowerCase() === token);
}

/**
 * Whether the request is an HTTP/2 extended CONNECT for another protocol than bytestream (websocket...).
 * Envoy's codec turns those into an HTTP/1-style upgrade (GET + `upgrade: <protocol>`) before
 * routing, so they are upgrades, not CONNECTs.
 */
export function isProtocolUpgradeConnect(request: RouteRequest): boolean {
  return request.method === 'CONNECT' && request.protocol !== undefined && request.protocol !== '' && request.protocol.toLowerCase() !== 'bytestream';
}

/**
 * The upgrade a request asks for: 'CONNECT' for CONNECT (and extended CONNECT with :protocol
 * 'bytestream'), the :protocol or Upgrade header value lower-cased otherwise ('websocket'), or
 * undefined for plain requests. An HTTP/1 Upgrade counts only with `connection: upgrade`, as in
 * Envoy. A POST counts as CONNECT only when `postIsConnect` (its route's connect_config has allow_post).
 */
export function requestedUpgrade(request: RouteRequest, postIsConnect: boolean): string | undefined {
  if (request.method === 'CONNECT') {
    return isProtocolUpgradeConnect(request) ? (request.protocol as string).toLowerCase() : 'CONNECT';
  }
  const upgrade = firstValue(request.headers, 'upgrade');
  if (upgrade !== undefined && upgrade !== '' && hasToken(firstValue(request.headers, 'connection'), 'upgrade')) return upgrade.trim().toLowerCase();
  if (postIsConnect && request.method === 'POST') return 'CONNECT';
  return undefined;
}

/** The decision for `request` given the HCM's upgrade map and the matched route's (undefined without a route entry). */
export function decideUpgrade(request: RouteRequest, hcm: ReadonlyMap<string, boolean>, route: RouteUpgrades | undefined): UpgradeDecision {
  const connect = route?.connect;
  const type = requestedUpgrade(request, connect?.allowPost === true);
  if (type === undefined) return NO_UPGRADE;
  // A POST terminated as CONNECT is no upgrade to the HCM: only the route's connect_config counts.
  if (type === 'CONNECT' && request.method === 'POST' && connect !== undefined) return { kind: 'allowed', upgradeType: type, connectConfig: connect };
  const key = type.toLowerCase();
  const onRoute = route?.enabled.get(key);
  if (onRoute === false) return { kind: 'rejected', upgradeType: type };
  if (onRoute !== true && hcm.get(key) !== true) return { kind: 'rejected', upgradeType: type };
  return key === 'connect' && connect !== undefined ? { kind: 'allowed', upgradeType: type, connectConfig: connect } : { kind: 'allowed', upgradeType: type };
}
