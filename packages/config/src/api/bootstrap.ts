/** envoy.config.bootstrap.v3.Bootstrap: the root of a config file. */
import * as z from 'zod';
import { accessLog, fileAccessLog } from './access-log.js';
import { cluster } from './cluster.js';
import { address, node } from './core.js';
import { bootstrapExtensionConfig } from './internal-listener.js';
import { listener } from './listener.js';
import { secret } from './tls.js';
import { defaulted, empty, message, nonEmptyString, requiredOneof, struct, unsupported } from '../schema/proto.js';

/** The admin endpoint. The deprecated `access_log_path` is folded into `access_log` as a file logger. */
export const admin = message(
  'envoy.config.bootstrap.v3.Admin',
  {
    access_log: z.array(accessLog).default([]),
    /** Deprecated: folded into access_log. */
    access_log_path: z.string().optional(),
    profile_path: z.string().default('/var/log/envoy/envoy.prof'),
    address: address.optional(),
  },
  { deprecated: { access_log_path: 'access_log' } },
).transform(({ access_log_path: path, ...rest }) => {
  if (!path) return rest;
  const fileLog = accessLog.parse({ name: 'envoy.access_loggers.file', typed_config: { '@type': fileAccessLog.typeUrl, path } });
  return { ...rest, access_log: [...rest.access_log, fileLog] };
});
export type Admin = z.output<typeof admin>;

export const staticResources = message('envoy.config.bootstrap.v3.Bootstrap.StaticResources', {
  listeners: z.array(listener).default([]),
  clusters: z.array(cluster).default([]),
  secrets: z.array(secret).default([]),
});
export type StaticResources = z.output<typeof staticResources>;

export const bootstrapExtension = message('envoy.config.core.v3.TypedExtensionConfig', {
  name: nonEmptyString(),
  typed_config: bootstrapExtensionConfig,
});
export type BootstrapExtension = z.output<typeof bootstrapExtension>;

export const runtimeLayer = message(
  'envoy.config.bootstrap.v3.RuntimeLayer',
  {
    name: nonEmptyString(),
    static_layer: struct.optional(),
    disk_layer: message('envoy.config.bootstrap.v3.RuntimeLayer.DiskLayer', {
      symlink_root: z.string().default(''),
      subdirectory: z.string().default(''),
      append_service_cluster: z.boolean().default(false),
    }).optional(),
    admin_layer: empty('envoy.config.bootstrap.v3.RuntimeLayer.AdminLayer').optional(),
    rtds_layer: unsupported('RTDS needs an xDS management server').optional(),
  },
  { oneofs: [requiredOneof('static_layer', 'disk_layer', 'admin_layer', 'rtds_layer')] },
);

export const layeredRuntime = message('envoy.config.bootstrap.v3.LayeredRuntime', { layers: z.array(runtimeLayer).default([]) });
export type LayeredRuntime = z.output<typeof layeredRuntime>;

const XDS = 'il reads static config only (no xDS)';
const NO_STATS_SINKS = 'il has no stats sinks or stats tag configuration; read stats from the admin /stats endpoint';

/** The top-level fields il accepts; the other Envoy fields listed here are refused with a reason. */
export const bootstrap = message('envoy.config.bootstrap.v3.Bootstrap', {
  node: defaulted(node),
  static_resources: defaulted(staticResources),
  dynamic_resources: unsupported(XDS).optional(),
  cluster_manager: unsupported('cluster manager settings are not implemented').optional(),
  hds_config: unsupported(XDS).optional(),
  flags_path: unsupported('flag files are not implemented').optional(),
  stats_sinks: unsupported(NO_STATS_SINKS).optional(),
  stats_config: unsupported(NO_STATS_SINKS).optional(),
  stats_flush_interval: unsupported(NO_STATS_SINKS).optional(),
  stats_flush_on_admin: unsupported(NO_STATS_SINKS).optional(),
  watchdog: unsupported('watchdogs are not implemented').optional(),
  watchdogs: unsupported('watchdogs are not implemented').optional(),
  tracing: unsupported('tracing is not implemented').optional(),
  layered_runtime: layeredRuntime.optional(),
  admin: admin.optional(),
  overload_manager: unsupported('the overload manager is not implemented').optional(),
  bootstrap_extensions: z.array(bootstrapExtension).default([]),
});
export type Bootstrap = z.output<typeof bootstrap>;
