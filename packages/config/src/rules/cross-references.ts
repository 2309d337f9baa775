/**
 * Checks that span the whole bootstrap: names that must be unique, names that must exist, and
 * addresses that can only be bound once. They run once every field is valid.
 */
import type { Bootstrap } from '../api/bootstrap.js';
import { addressString } from '../api/core.js';
import type { Address } from '../api/core.js';
import type { FilterChain, Listener } from '../api/listener.js';
import { tcpProxy } from '../api/tcp-proxy.js';
import { upstreamTlsContext, type CommonTlsContext } from '../api/tls.js';
import { HTTP_PROTOCOL_OPTIONS_KEY } from '../constants.js';
import type { FieldPath } from '../source/path.js';
import { formatPath } from '../source/path.js';

export interface RuleFinding {
  readonly path: FieldPath;
  readonly message: string;
}

const LISTENERS = ['static_resources', 'listeners'] as const;
const CLUSTERS = ['static_resources', 'clusters'] as const;

export function checkCrossReferences(b: Bootstrap): RuleFinding[] {
  const findings: RuleFinding[] = [];
  const report = (path: FieldPath, message: string) => findings.push({ path, message });
  checkUniqueNames(b, report);
  checkAddresses(b, report);
  checkInternalListenerExtension(b, report);
  checkClusterReferences(b, report);
  checkInternalAddresses(b, report);
  checkSecrets(b, report);
  checkAlpnTransportSockets(b, report);
  return findings;
}

type Report = (path: FieldPath, message: string) => void;

function checkUniqueNames(b: Bootstrap, report: Report): void {
  const listeners = new Map<string, number>();
  b.static_resources.listeners.forEach((l, i) => {
    const first = listeners.get(l.name);
    if (first === undefined) listeners.set(l.name, i);
    else report([...LISTENERS, i, 'name'], `error adding listener named '${l.name}': the name is already used by ${formatPath([...LISTENERS, first])}`);
  });
  const clusters = new Set<string>();
  b.static_resources.clusters.forEach((c, i) => {
    if (clusters.has(c.name)) report([...CLUSTERS, i, 'name'], `cluster manager: duplicate cluster '${c.name}'`);
    clusters.add(c.name);
  });
}

/** Every address a listener binds, with its path. Internal listeners bind none. */
function boundAddresses(l: Listener, i: number): { address: Address; path: FieldPath }[] {
  if (l.internal_listener) return [];
  const all = l.address ? [{ address: l.address, path: [...LISTENERS, i, 'address'] }] : [];
  l.additional_addresses.forEach((a, j) => all.push({ address: a.address, path: [...LISTENERS, i, 'additional_addresses', j, 'address'] }));
  // Port 0 asks the kernel for a fresh port each time, so it never collides.
  return all.filter(({ address }) => address.socket_address?.port_value !== 0);
}

function checkAddresses(b: Bootstrap, report: Report): void {
  const owners = new Map<string, string>();
  b.static_resources.listeners.forEach((l, i) => {
    const addresses = boundAddresses(l, i);
    const clash = addresses.find(({ address }) => owners.has(addressString(address)));
    if (clash) {
      const all = addresses.map(({ address }) => addressString(address)).join(',');
      report(clash.path, `error adding listener: '${l.name}' has duplicate address '${all}' as existing listener, to check if the listener has duplicated addresses with other listeners or 'enable_reuse_port' is set to 'false' for the listener`);
    }
    for (const { address } of addresses) if (!owners.has(addressString(address))) owners.set(addressString(address), l.name);
  });
  const adminAddress = b.admin?.address;
  if (adminAddress) {
    const owner = owners.get(addressString(adminAddress));
    if (owner !== undefined && adminAddress.socket_address?.port_value !== 0) {
      report(['admin', 'address'], `admin address '${addressString(adminAddress)}' is also the address of listener '${owner}'`);
    }
  }
}

function checkInternalListenerExtension(b: Bootstrap, report: Report): void {
  // InternalListener is the only bootstrap extension il accepts, so any extension enables it.
  if (b.bootstrap_extensions.length > 0) return;
  b.static_resources.listeners.forEach((l, i) => {
    if (l.internal_listener) report([...LISTENERS, i, 'internal_listener'], `error adding listener named '${l.name}': InternalListener bootstrap extension is mandatory`);
  });
}

/** Each filter chain of a listener, with its path. */
export function filterChains(l: Listener, i: number): { chain: FilterChain; path: FieldPath }[] {
  const chains = l.filter_chains.map((chain, j) => ({ chain, path: [...LISTENERS, i, 'filter_chains', j] as FieldPath }));
  if (l.default_filter_chain) chains.push({ chain: l.default_filter_chain, path: [...LISTENERS, i, 'default_filter_chain'] });
  return chains;
}

function checkClusterReferences(b: Bootstrap, report: Report): void {
  const clusters = new Set(b.static_resources.clusters.map((c) => c.name));
  b.static_resources.listeners.forEach((l, i) => {
    for (const { chain, path } of filterChains(l, i)) {
      chain.filters.forEach((filter, k) => {
        const at = [...path, 'filters', k, 'typed_config'];
        const config = filter.typed_config;
        if (config['@type'] === tcpProxy.typeUrl) {
          if (config.cluster !== undefined && !clusters.has(config.cluster)) report([...at, 'cluster'], `tcp_proxy: unknown cluster '${config.cluster}'`);
          config.weighted_clusters?.clusters.forEach((w, n) => {
            if (!clusters.has(w.name)) report([...at, 'weighted_clusters', 'clusters', n, 'name'], `tcp_proxy: unknown weighted cluster '${w.name}'`);
          });
        } else if (config.route_config?.validate_clusters) {
          config.route_config.virtual_hosts.forEach((host, v) => {
            host.routes.forEach((route, r) => {
              const action = route.route;
              const routeAt = [...at, 'route_config', 'virtual_hosts', v, 'routes', r, 'route'];
              if (action?.cluster !== undefined && !clusters.has(action.cluster)) report([...routeAt, 'cluster'], `route: unknown cluster '${action.cluster}'`);
              action?.weighted_clusters?.clusters.forEach((w, n) => {
                if (w.name !== '' && !clusters.has(w.name)) report([...routeAt, 'weighted_clusters', 'clusters', n, 'name'], `route: unknown weighted cluster '${w.name}'`);
              });
            });
          });
        }
      });
    }
  });
}

function checkInternalAddresses(b: Bootstrap, report: Report): void {
  const listeners = new Map(b.static_resources.listeners.map((l) => [l.name, l]));
  b.static_resources.clusters.forEach((c, i) => {
    c.load_assignment?.endpoints.forEach((locality, j) => {
      locality.lb_endpoints.forEach((lb, k) => {
        const internal = lb.endpoint?.address.envoy_internal_address;
        if (!internal) return;
        const path = [...CLUSTERS, i, 'load_assignment', 'endpoints', j, 'lb_endpoints', k, 'endpoint', 'address', 'envoy_internal_address', 'server_listener_name'];
        const target = listeners.get(internal.server_listener_name);
        if (!target) report(path, `no internal listener named '${internal.server_listener_name}': server_listener_name must name a listener that has internal_listener set`);
        else if (!target.internal_listener) report(path, `listener '${internal.server_listener_name}' is not an internal listener: give it internal_listener: {} instead of an address`);
      });
    });
  });
}

/** A TLS context and its place: every transport socket of listeners and clusters, internal_upstream's inner one included. */
export function tlsContexts(b: Bootstrap): { common: CommonTlsContext; path: FieldPath }[] {
  const found: { common: CommonTlsContext; path: FieldPath }[] = [];
  const visit = (socket: { typed_config: { '@type': string } } | undefined, path: FieldPath): void => {
    if (socket === undefined) return;
    const config = socket.typed_config as { '@type': string; common_tls_context?: CommonTlsContext; transport_socket?: { typed_config: { '@type': string } } };
    if (config.common_tls_context !== undefined) found.push({ common: config.common_tls_context, path: [...path, 'typed_config', 'common_tls_context'] });
    if (config.transport_socket !== undefined) visit(config.transport_socket, [...path, 'typed_config', 'transport_socket']);
  };
  b.static_resources.listeners.forEach((l, i) => {
    for (const { chain, path } of filterChains(l, i)) visit(chain.transport_socket, [...path, 'transport_socket']);
  });
  b.static_resources.clusters.forEach((c, i) => {
    visit(c.transport_socket, [...CLUSTERS, i, 'transport_socket']);
    c.transport_socket_matches.forEach((m, j) => visit(m.transport_socket, [...CLUSTERS, i, 'transport_socket_matches', j, 'transport_socket']));
  });
  return found;
}

/** Secret names are unique, and every SDS reference names a static secret of the right kind. */
function checkSecrets(b: Bootstrap, report: Report): void {
  const secrets = new Map<string, 'tls_certificate' | 'validation_context' | 'other'>();
  b.static_resources.secrets.forEach((secret, i) => {
    if (secrets.has(secret.name)) report(['static_resources', 'secrets', i, 'name'], `duplicate static secret name '${secret.name}'`);
    secrets.set(secret.name, secret.tls_certificate !== undefined ? 'tls_certificate' : secret.validation_context !== undefined ? 'validation_context' : 'other');
  });
  const check = (name: string, kind: 'tls_certificate' | 'validation_context', path: FieldPath): void => {
    const found = secrets.get(name);
    if (found === undefined) report(path, `Unknown static secret: ${name}: il has no SDS, so it must be one of static_resources.secrets`);
    else if (found !== kind) report(path, `static secret '${name}' is not a ${kind}`);
  };
  for (const { common, path } of tlsContexts(b)) {
    common.tls_certificate_sds_secret_configs.forEach((sds, j) => check(sds.name, 'tls_certificate', [...path, 'tls_certificate_sds_secret_configs', j, 'name']));
    if (common.validation_context_sds_secret_config !== undefined) check(common.validation_context_sds_secret_config.name, 'validation_context', [...path, 'validation_context_sds_secret_config', 'name']);
    const combined = common.combined_validation_context;
    if (combined !== undefined) check(combined.validation_context_sds_secret_config.name, 'validation_context', [...path, 'combined_validation_context', 'validation_context_sds_secret_config', 'name']);
  }
}

/**
 * auto_config picks HTTP/2 or HTTP/1.1 by ALPN, so every transport socket of the cluster must be
 * TLS (directly or inside internal_upstream), as Envoy refuses the cluster otherwise.
 */
function checkAlpnTransportSockets(b: Bootstrap, report: Report): void {
  const isTls = (socket: { typed_config: { '@type': string } } | undefined): boolean => {
    if (socket === undefined) return false;
    const config = socket.typed_config as { '@type': string; transport_socket?: { typed_config: { '@type': string } } };
    if (config['@type'] === upstreamTlsContext.typeUrl) return true;
    return config.transport_socket !== undefined && isTls(config.transport_socket);
  };
  b.static_resources.clusters.forEach((c, i) => {
    if (c.typed_extension_protocol_options?.[HTTP_PROTOCOL_OPTIONS_KEY]?.auto_config === undefined) return;
    const path = [...CLUSTERS, i, 'typed_extension_protocol_options', HTTP_PROTOCOL_OPTIONS_KEY, 'auto_config'];
    if (!isTls(c.transport_socket)) {
      report(path, `ALPN configured for cluster ${c.name} which has a non-ALPN transport socket: auto_config needs an UpstreamTlsContext transport_socket`);
    } else if (!c.transport_socket_matches.every((m) => isTls(m.transport_socket))) {
      report(path, `ALPN configured for cluster ${c.name} which has a non-ALPN transport socket matcher: every transport_socket_matches entry must be TLS`);
    }
  });
}
