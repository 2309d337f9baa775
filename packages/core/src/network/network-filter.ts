import type { Listener, NetworkFilterConfig } from '@il/config/runtime';
import type { AccessLogFileManager } from '../access-log/file-manager.js';
import type { Scope } from '../stats/store.js';
import type { StreamInfo } from '../stream-info/stream-info.js';
import type { ClusterManager } from '../upstream/cluster-manager.js';
import type { ConnectionSocket } from './dial.js';
import type { DrainManager } from './drain-manager.js';
import type { InternalListenerRegistry } from './internal-listener-registry.js';

/** What a listener tells its filters about itself. */
export interface ListenerInfo {
  readonly name: string;
  readonly config: Listener;
  /** Listener stats scope (`listener.<stat_prefix>.`). */
  readonly scope: Scope;
  readonly internal: boolean;
  readonly perConnectionBufferLimitBytes: number;
}

/** A downstream connection handed to a filter chain's terminal network filter. */
export interface DownstreamConnection {
  readonly socket: ConnectionSocket;
  /** Connection-level info: id, addresses, and the filter state and metadata an internal hop passed in. */
  readonly streamInfo: StreamInfo;
  readonly listener: ListenerInfo;
  /** Internal hops this connection is into a chain (0 for a kernel socket). */
  readonly hops: number;
}

export type ConnectionHandler = (connection: DownstreamConnection) => void;

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';
export type ComponentLog = (level: LogLevel, message: string) => void;

/** What a network filter factory may use to build its connection handler. */
export interface NetworkFilterFactoryContext {
  readonly clusterManager: ClusterManager;
  readonly registry: InternalListenerRegistry | undefined;
  /** The root stats scope (`tcp.<prefix>.`, `http.<prefix>.` are created from it). */
  readonly scope: Scope;
  readonly listener: ListenerInfo;
  readonly drain: DrainManager;
  readonly log: (component: string) => ComponentLog;
  /** Shared access-log files (one stream per path, flushed and reopened together). */
  readonly accessLogFiles: AccessLogFileManager;
}

/** Something in a filter's config that would fail at start-up: `path` is relative to its typed_config. */
export interface ConfigFinding {
  /** A field path as @il/config writes them: `route_config.virtual_hosts[0].routes[1].match`. */
  readonly path: string;
  readonly message: string;
}

/**
 * A network filter extension, registered by its config type URL as Envoy registers factories
 * (`type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy`). The config
 * it receives is the validated `typed_config` from @il/config.
 */
export interface NetworkFilterFactory<C extends NetworkFilterConfig = NetworkFilterConfig> {
  readonly typeUrl: C['@type'];
  create(config: C, context: NetworkFilterFactoryContext): ConnectionHandler;
  /**
   * What `create` would refuse in `config` (format strings, route tables...), found without side
   * effects (no file opened, nothing bound), so that validation catches it with the field's place.
   */
  validate?(config: C): readonly ConfigFinding[];
}
