import type { Bootstrap } from '@il/config/runtime';
import { AccessLogFileManager } from './access-log/file-manager.js';
import { DrainManager, type DrainStrategy } from './network/drain-manager.js';
import { InternalListenerRegistry } from './network/internal-listener-registry.js';
import { ListenerManager } from './network/listener-manager.js';
import type { ComponentLog, NetworkFilterFactory } from './network/network-filter.js';
import { Store } from './stats/store.js';
import type { TlsContext } from './transport-sockets/tls/tls-context.js';
import { ClusterManager } from './upstream/cluster-manager.js';
import type { DnsResolver } from './upstream/dns-resolver.js';

export interface RuntimeOptions {
  /** The network filters this runtime can build, by config type URL. */
  filterFactories: readonly NetworkFilterFactory[];
  store?: Store | undefined;
  log?: ((component: string) => ComponentLog) | undefined;
  dnsResolver?: DnsResolver | undefined;
  accessLogFiles?: AccessLogFileManager | undefined;
  drainStrategy?: DrainStrategy | undefined;
}

const noLog: ComponentLog = () => undefined;
/** How long shutdown waits for upstream connections to follow their downstreams. */
const UPSTREAM_CLOSE_GRACE_MS = 1000;

/**
 * A bootstrap brought to life: the internal listener registry (when the InternalListener
 * bootstrap extension is configured), the clusters, and the listeners with their filters.
 * `start()` warms the clusters (first DNS resolution) before any listener accepts, as Envoy
 * does; a listener that cannot bind fails the start and nothing stays bound.
 */
export class Runtime {
  readonly store: Store;
  readonly registry: InternalListenerRegistry | undefined;
  readonly clusterManager: ClusterManager;
  readonly listenerManager: ListenerManager;
  readonly drain: DrainManager;
  readonly accessLogFiles: AccessLogFileManager;

  constructor(readonly bootstrap: Bootstrap, options: RuntimeOptions) {
    const log = options.log ?? (() => noLog);
    this.store = options.store ?? new Store();
    // InternalListener is the only bootstrap extension @il/config accepts.
    const extension = bootstrap.bootstrap_extensions[0]?.typed_config;
    if (extension !== undefined) {
      const bufferSizeBytes = extension.buffer_size_kb * 1024;
      this.registry = new InternalListenerRegistry({ bufferSizeBytes });
      log('main')('debug', `Internal client connection buffer size ${bufferSizeBytes}`);
    }
    this.clusterManager = new ClusterManager(bootstrap.static_resources.clusters, {
      scope: this.store.root,
      registry: this.registry,
      dnsResolver: options.dnsResolver,
      onLog: (level, message) => log('upstream')(level, message),
      secrets: bootstrap.static_resources.secrets,
    });
    this.drain = new DrainManager({ strategy: options.drainStrategy ?? 'gradual' });
    this.accessLogFiles = options.accessLogFiles ?? new AccessLogFileManager();
    this.listenerManager = new ListenerManager({
      listeners: bootstrap.static_resources.listeners,
      filterFactories: options.filterFactories,
      clusterManager: this.clusterManager,
      registry: this.registry,
      scope: this.store.root,
      drain: this.drain,
      log,
      accessLogFiles: this.accessLogFiles,
      secrets: bootstrap.static_resources.secrets,
    });
  }

  /** Every TLS context of the listeners and clusters (admin /certs). */
  tlsContexts(): TlsContext[] {
    return [...this.listenerManager.tlsContexts(), ...this.clusterManager.clusters().flatMap((c) => c.tlsContexts())];
  }

  async start(): Promise<void> {
    await this.clusterManager.initialize();
    try {
      await this.listenerManager.start();
    } catch (error) {
      this.clusterManager.close();
      throw error;
    }
  }

  /**
   * Stops accepting, drains for up to `drainTimeMs`, closes what is left, then flushes the
   * access logs. Filters log a connection when its upstream side has closed too, which comes a
   * moment after the downstream closes: shutdown waits (briefly) for that, so no line is lost.
   */
  async shutdown(drainTimeMs = 0): Promise<void> {
    await this.listenerManager.shutdown(drainTimeMs);
    const deadline = performance.now() + UPSTREAM_CLOSE_GRACE_MS;
    while (this.clusterManager.clusters().some((c) => c.activeConnections > 0) && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    this.clusterManager.close();
    await this.accessLogFiles.close();
  }
}
