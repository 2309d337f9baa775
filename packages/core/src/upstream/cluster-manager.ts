import type { Cluster, Secret } from '@il/config/runtime';
import type { InternalListenerRegistry } from '../network/internal-listener-registry.js';
import type { Scope } from '../stats/store.js';
import { UpstreamCluster } from './cluster.js';
import { systemDnsResolver, type DnsResolver } from './dns-resolver.js';

export interface ClusterManagerOptions {
  /** Root stats scope; clusters live under `cluster.<name>.`. */
  scope: Scope;
  /** Where `envoy_internal_address` hosts are dialled (absent: no internal listener extension). */
  registry?: InternalListenerRegistry | undefined;
  dnsResolver?: DnsResolver | undefined;
  onLog?: ((level: 'debug' | 'info' | 'warn', message: string) => void) | undefined;
  /** static_resources.secrets, for TLS contexts that name them. */
  secrets?: readonly Secret[] | undefined;
}

/** How often the bytes moved by open connections are added to the cluster rx/tx totals. */
const BYTE_STATS_FLUSH_MS = 1000;

/** Every cluster of the bootstrap, by name (Envoy's cluster manager, static clusters only). */
export class ClusterManager {
  readonly #clusters = new Map<string, UpstreamCluster>();
  readonly #flushTimer: NodeJS.Timeout;

  constructor(clusters: readonly Cluster[], options: ClusterManagerOptions) {
    const context = {
      scope: options.scope,
      registry: options.registry,
      dnsResolver: options.dnsResolver ?? systemDnsResolver,
      onLog: options.onLog,
      secrets: options.secrets ?? [],
    };
    for (const config of clusters) this.#clusters.set(config.name, new UpstreamCluster(config, context));
    this.#flushTimer = setInterval(() => {
      for (const cluster of this.#clusters.values()) cluster.flushByteStats();
    }, BYTE_STATS_FLUSH_MS);
    this.#flushTimer.unref();
  }

  /** Resolves every DNS cluster once (Envoy's cluster warming); listeners start after this. */
  async initialize(): Promise<void> {
    await Promise.all([...this.#clusters.values()].map((c) => c.initialize()));
  }

  get(name: string): UpstreamCluster | undefined {
    return this.#clusters.get(name);
  }

  clusters(): UpstreamCluster[] {
    return [...this.#clusters.values()];
  }

  close(): void {
    clearInterval(this.#flushTimer);
    for (const cluster of this.#clusters.values()) cluster.close();
  }
}
