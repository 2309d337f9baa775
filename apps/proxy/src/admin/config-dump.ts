/**
 * `/config_dump`: Envoy's admin.v3.ConfigDump, `{"configs": [...]}` with one typed dump per
 * kind of resource, built from the effective bootstrap (@il/config's dump()). il has only
 * static resources, so listeners and clusters are all `static_*`.
 */

const ADMIN = 'type.googleapis.com/envoy.admin.v3.';

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

export function toConfigDump(effective: unknown): unknown {
  const bootstrap = record(effective);
  if (bootstrap === undefined || Array.isArray(bootstrap.configs)) return effective;
  const resources = record(bootstrap.static_resources) ?? {};
  return {
    configs: [
      { '@type': `${ADMIN}BootstrapConfigDump`, bootstrap },
      {
        '@type': `${ADMIN}ClustersConfigDump`,
        static_clusters: list(resources.clusters).map((cluster) => ({
          cluster: { '@type': 'type.googleapis.com/envoy.config.cluster.v3.Cluster', ...record(cluster) },
        })),
      },
      {
        '@type': `${ADMIN}ListenersConfigDump`,
        static_listeners: list(resources.listeners).map((listener) => ({
          listener: { '@type': 'type.googleapis.com/envoy.config.listener.v3.Listener', ...record(listener) },
        })),
      },
    ],
  };
}
