/**
 * Everything the admin interface knows about the running server. The admin depends only on
 * this: the server implements it, tests fake it.
 */
import type { X509Certificate } from 'node:crypto';
import type { Store } from '@il/core';

/** Envoy's ServerInfo.State. */
export type ServerState = 'LIVE' | 'DRAINING' | 'PRE_INITIALIZING' | 'INITIALIZING';

export interface ServerInfo {
  readonly version: string;
  readonly state: ServerState;
  readonly uptimeSeconds: number;
  /** Envoy's CommandLineOptions fields (see cli/toCommandLineOptions). */
  readonly commandLineOptions: Record<string, unknown>;
  /** The bootstrap's `node`. */
  readonly node: unknown;
}

export interface ClusterHostStatus {
  /** `127.0.0.1:10001`, `[::1]:80`, `envoy://<listener>/<endpoint id>` or a pipe path. */
  readonly address: string;
  readonly weight: number;
  readonly healthy: boolean;
  /** Envoy's per-host stats by short name: `cx_total`, `cx_active`, `rq_total`, ... */
  readonly stats: Record<string, number>;
}

export interface ClusterStatus {
  readonly name: string;
  readonly hosts: readonly ClusterHostStatus[];
  /** The default priority's thresholds. */
  readonly circuitBreakers: {
    readonly maxConnections: number;
    readonly maxPendingRequests: number;
    readonly maxRequests: number;
    readonly maxRetries: number;
  };
}

export interface ListenerStatus {
  readonly name: string;
  /** `0.0.0.0:10000`; internal listeners are `envoy://<name>/`. */
  readonly address: string;
}

/** A certificate and the file it was read from (`<inline>` for inline data). */
export interface CertificateSource {
  readonly path: string;
  readonly certificate: X509Certificate;
}

/** One TLS context: the CA it trusts and the certificates it presents (Envoy's `Certificate`). */
export interface CertificateSet {
  readonly caCert: readonly CertificateSource[];
  readonly certChain: readonly CertificateSource[];
}

export interface AdminContext {
  readonly stats: Store;
  /**
   * The effective config: `@il/config`'s dump() of the bootstrap. The admin wraps it in Envoy's
   * `{"configs": [...]}` shape; a value that already has `configs` is shown as it is.
   */
  configDump(): unknown;
  serverInfo(): ServerInfo;
  clusters(): readonly ClusterStatus[];
  listeners(): readonly ListenerStatus[];
  /** Every TLS context of the listeners and clusters. */
  certs(): readonly CertificateSet[];
  /** Runtime keys and their final values. */
  runtime(): Record<string, unknown>;
  readonly logging: {
    /** Component → Envoy level name. */
    levels(): Record<string, string>;
    /** `all` changes every component. False if the component or level is unknown. */
    setLevel(component: string, level: string): boolean;
  };
  readonly healthcheck: { failed(): boolean; fail(): void; ok(): void };
  drainListeners(options: { graceful: boolean; inboundOnly: boolean }): Promise<void>;
  /** POST /quitquitquit: start shutdown (called after the response is sent). */
  quit(): void;
  reopenLogs(): void;
}
