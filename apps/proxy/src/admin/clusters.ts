/**
 * `/clusters` in Envoy's text (`cluster::host::stat::value` lines) and JSON (admin.v3.Clusters)
 * forms, from source/server/admin/clusters_handler.cc.
 *
 * What il does not have is not shown rather than faked: only the default priority's circuit
 * breakers, no outlier lines, no locality/hostname/canary/priority lines. A host without
 * outlier detection has success rate -1, as in Envoy. An unhealthy host is shown as
 * `/failed_eds_health`, because in a static config only an endpoint's `health_status` can make
 * a host unhealthy, and that is Envoy's EDS health flag.
 */
import { addressToJson } from './address.js';
import type { ClusterStatus } from './context.js';

/** Envoy's per-host gauges; every other host stat is a counter. */
const HOST_GAUGES = new Set(['cx_active', 'rq_active']);

function sortedStats(stats: Record<string, number>): [string, number][] {
  return Object.entries(stats).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

export function renderClustersText(clusters: readonly ClusterStatus[]): string {
  let out = '';
  for (const cluster of clusters) {
    const name = cluster.name;
    const limits = cluster.circuitBreakers;
    out += `${name}::default_priority::max_connections::${limits.maxConnections}\n`;
    out += `${name}::default_priority::max_pending_requests::${limits.maxPendingRequests}\n`;
    out += `${name}::default_priority::max_requests::${limits.maxRequests}\n`;
    out += `${name}::default_priority::max_retries::${limits.maxRetries}\n`;
    out += `${name}::added_via_api::false\n`;
    for (const host of cluster.hosts) {
      const prefix = `${name}::${host.address}::`;
      for (const [stat, value] of sortedStats(host.stats)) out += `${prefix}${stat}::${value}\n`;
      out += `${prefix}health_flags::${host.healthy ? 'healthy' : '/failed_eds_health'}\n`;
      out += `${prefix}weight::${host.weight}\n`;
      out += `${prefix}success_rate::-1\n`;
      out += `${prefix}local_origin_success_rate::-1\n`;
    }
  }
  return out;
}

export function renderClustersJson(clusters: readonly ClusterStatus[]): string {
  const cluster_statuses = clusters.map((cluster) => ({
    name: cluster.name,
    added_via_api: false,
    circuit_breakers: {
      thresholds: [
        {
          priority: 'DEFAULT',
          max_connections: cluster.circuitBreakers.maxConnections,
          max_pending_requests: cluster.circuitBreakers.maxPendingRequests,
          max_requests: cluster.circuitBreakers.maxRequests,
          max_retries: cluster.circuitBreakers.maxRetries,
        },
      ],
    },
    host_statuses: cluster.hosts.map((host) => ({
      address: addressToJson(host.address),
      // uint64 fields are strings in protobuf's JSON mapping, as Envoy prints them.
      stats: sortedStats(host.stats).map(([name, value]) => ({ name, value: String(value), type: HOST_GAUGES.has(name) ? 'GAUGE' : 'COUNTER' })),
      health_status: { eds_health_status: host.healthy ? 'HEALTHY' : 'UNHEALTHY' },
      weight: host.weight,
    })),
  }));
  return `${JSON.stringify({ cluster_statuses }, null, 2)}\n`;
}
