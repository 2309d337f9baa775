/** A fake AdminContext around a real Store and a real Logging, and an admin started on it. */
import { Store } from '@il/core';
import type { AdminContext, CertificateSet, ClusterStatus, ServerState } from '../src/admin/context.js';
import { startAdmin, type AdminServer } from '../src/admin/server.js';
import { createLogging, type Logging } from '../src/logging/logging.js';

export interface Fake {
  readonly context: AdminContext;
  readonly store: Store;
  readonly logging: Logging;
  /** Every line the logging wrote. */
  readonly lines: string[];
  state: ServerState;
  healthFailed: boolean;
  quits: number;
  reopens: number;
  readonly drains: { graceful: boolean; inboundOnly: boolean }[];
  configDump: unknown;
  runtime: Record<string, unknown>;
  clusters: ClusterStatus[];
  certs: CertificateSet[];
}

export function fakeContext(): Fake {
  const lines: string[] = [];
  const logging = createLogging({ level: 'info', destination: { write: (line: string) => void lines.push(line) } });
  const store = new Store();
  const fake: Fake = {
    store,
    logging,
    lines,
    state: 'LIVE',
    healthFailed: false,
    quits: 0,
    reopens: 0,
    drains: [],
    configDump: {
      admin: { address: { socket_address: { address: '127.0.0.1', port_value: 9901 } } },
      static_resources: {
        listeners: [{ name: 'listener_0', address: { socket_address: { address: '127.0.0.1', port_value: 10000 } } }],
        clusters: [{ name: 'cluster_0', connect_timeout: '5s' }],
      },
    },
    runtime: { 'envoy.reloadable_features.example': true, 'overload.global_downstream_max_connections': 1000 },
    clusters: [
      {
        name: 'cluster_0',
        circuitBreakers: { maxConnections: 1024, maxPendingRequests: 1024, maxRequests: 1024, maxRetries: 3 },
        hosts: [
          { address: '127.0.0.1:10001', weight: 1, healthy: true, stats: { cx_total: 3, cx_active: 1, rq_total: 7, cx_connect_fail: 0 } },
          { address: '[::1]:10002', weight: 2, healthy: false, stats: { cx_total: 0, cx_active: 0 } },
        ],
      },
      {
        name: 'decap',
        circuitBreakers: { maxConnections: 10, maxPendingRequests: 20, maxRequests: 30, maxRetries: 4 },
        hosts: [{ address: 'envoy://decap/', weight: 1, healthy: true, stats: { cx_total: 1 } }],
      },
    ],
    certs: [],
    context: undefined as unknown as AdminContext,
  };
  (fake as { context: AdminContext }).context = {
    stats: store,
    configDump: () => fake.configDump,
    serverInfo: () => ({
      version: 'il-proxy/0.0.0/Node.js v20/envoy-api-v3',
      state: fake.state,
      uptimeSeconds: 12.7,
      commandLineOptions: { config_path: 'x.yaml', mode: 'Serve' },
      node: { id: 'node-1', cluster: 'front' },
    }),
    clusters: () => fake.clusters,
    listeners: () => [
      { name: 'listener_0', address: '127.0.0.1:10000' },
      { name: 'encap', address: 'envoy://encap/' },
    ],
    runtime: () => fake.runtime,
    certs: () => fake.certs,
    logging: { levels: () => logging.levels(), setLevel: (component, level) => logging.setLevel(component, level) },
    healthcheck: {
      failed: () => fake.healthFailed,
      fail: () => void (fake.healthFailed = true),
      ok: () => void (fake.healthFailed = false),
    },
    drainListeners: (options) => {
      fake.drains.push(options);
      return Promise.resolve();
    },
    quit: () => {
      fake.quits++;
    },
    reopenLogs: () => {
      fake.reopens++;
    },
  };
  return fake;
}

export interface Running {
  readonly fake: Fake;
  readonly admin: AdminServer;
  readonly url: string;
  get(path: string): Promise<Response>;
  post(path: string): Promise<Response>;
}

export async function startFake(fake: Fake = fakeContext()): Promise<Running> {
  const admin = await startAdmin(fake.context, { host: '127.0.0.1', port: 0 }, fake.logging.logger('admin'));
  const url = `http://${admin.address}`;
  return {
    fake,
    admin,
    url,
    get: (path) => fetch(url + path),
    post: (path) => fetch(url + path, { method: 'POST' }),
  };
}
