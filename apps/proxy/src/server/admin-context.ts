import { dump, type Bootstrap } from '@il/config/runtime';
import type { Runtime } from '@il/core';
import type { AdminContext, ClusterStatus, ServerState } from '../admin/index.js';
import { toCommandLineOptions, type CliOptions } from '../cli/options.js';
import { VERSION } from '../cli/version.js';
import type { Logging } from '../logging/index.js';

export interface ServerControls {
  state(): ServerState;
  readonly startedAt: number;
  drainListeners(options: { graceful: boolean; inboundOnly: boolean }): Promise<void>;
  quit(): void;
  reopenLogs(): void;
}

/** The admin interface's view of a running server. */
export function adminContext(bootstrap: Bootstrap, runtime: Runtime, logging: Logging, options: CliOptions, controls: ServerControls): AdminContext {
  let healthFailed = false;
  return {
    stats: runtime.store,
    configDump: () => dump(bootstrap),
    serverInfo: () => ({
      version: VERSION,
      state: controls.state(),
      uptimeSeconds: Math.floor((Date.now() - controls.startedAt) / 1000),
      commandLineOptions: toCommandLineOptions(options),
      node: bootstrap.node,
    }),
    clusters: () => runtime.clusterManager.clusters().map((cluster): ClusterStatus => {
      const thresholds = cluster.config.circuit_breakers.thresholds.find((t) => t.priority === 'DEFAULT');
      return {
        name: cluster.name,
        hosts: cluster.hosts().map((host) => ({
          address: host.addressString,
          weight: host.weight,
          healthy: host.healthy,
          stats: { ...host.stats },
        })),
        circuitBreakers: {
          maxConnections: thresholds?.max_connections ?? 1024,
          maxPendingRequests: thresholds?.max_pending_requests ?? 1024,
          maxRequests: thresholds?.max_requests ?? 1024,
          maxRetries: thresholds?.max_retries ?? 3,
        },
      };
    }),
    listeners: () => runtime.listenerManager.listeners().map(({ name, address }) => ({ name, address })),
    certs: () => runtime.tlsContexts().map((context) => ({
      // Envoy reports the first certificate of the trusted bundle and each presented chain's leaf.
      caCert: context.trustedCa.slice(0, 1).map((certificate) => ({ path: context.trustedCaSource ?? '<inline>', certificate })),
      certChain: context.certificateChains.flatMap(({ source, chain }) => chain.slice(0, 1).map((certificate) => ({ path: source, certificate }))),
    })),
    runtime: () => runtimeValues(bootstrap),
    logging: {
      levels: () => logging.levels(),
      setLevel: (component, level) => logging.setLevel(component, level),
    },
    healthcheck: {
      failed: () => healthFailed,
      fail: () => (healthFailed = true),
      ok: () => (healthFailed = false),
    },
    drainListeners: (drainOptions) => controls.drainListeners(drainOptions),
    quit: () => controls.quit(),
    reopenLogs: () => controls.reopenLogs(),
  };
}

/** The static layers of `layered_runtime`, flattened to `key: value` with later layers winning. */
function runtimeValues(bootstrap: Bootstrap): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const layer of bootstrap.layered_runtime?.layers ?? []) {
    if (layer.static_layer !== undefined) flatten(layer.static_layer, '', values);
  }
  return values;
}

function flatten(object: Record<string, unknown>, prefix: string, into: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(object)) {
    const name = prefix === '' ? key : `${prefix}.${key}`;
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) flatten(value as Record<string, unknown>, name, into);
    else into[name] = value;
  }
}
