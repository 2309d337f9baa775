/** envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager. */
import * as z from 'zod';
import { accessLog } from './access-log.js';
import { commonHttpProtocolOptions, http1ProtocolOptions, http2ProtocolOptions, http3Refused } from './protocol.js';
import { routeConfiguration } from './route.js';
import { HTTP_FILTER_FACTORY_NAMES, httpFilterConfig } from './router.js';
import { defaulted, duration, durationOr, message, nonEmptyString, protoEnum, requiredOneof, typedMessage, uint32, unsupported } from '../schema/proto.js';

export const httpFilter = message('envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter', {
  name: nonEmptyString(),
  typed_config: httpFilterConfig,
});
export type HttpFilter = z.output<typeof httpFilter>;

export const hcmUpgradeConfig = message('envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.UpgradeConfig', {
  upgrade_type: nonEmptyString(),
  filters: unsupported('per-upgrade HTTP filter chains are not implemented').optional(),
  enabled: z.boolean().default(true),
});
export type HcmUpgradeConfig = z.output<typeof hcmUpgradeConfig>;

const XDS_REASON = 'il reads static config only (no xDS); give route_config inline';

export const httpConnectionManager = typedMessage(
  'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
  ['envoy.filters.network.http_connection_manager'],
  {
    codec_type: protoEnum({ AUTO: 0, HTTP1: 1, HTTP2: 2, HTTP3: 3 }, ['AUTO', 'HTTP1', 'HTTP2'], 'HTTP/3 is not implemented').default('AUTO'),
    stat_prefix: nonEmptyString(),
    rds: unsupported(XDS_REASON).optional(),
    route_config: routeConfiguration.optional(),
    scoped_routes: unsupported(XDS_REASON).optional(),
    http_filters: z.array(httpFilter).default([]),
    upgrade_configs: z.array(hcmUpgradeConfig).default([]),
    http_protocol_options: defaulted(http1ProtocolOptions),
    http2_protocol_options: defaulted(http2ProtocolOptions),
    http3_protocol_options: http3Refused(),
    common_http_protocol_options: defaulted(commonHttpProtocolOptions),
    /** Unset → 5 minutes; `0s` disables it. */
    stream_idle_timeout: durationOr(300),
    /** Unset → 0, disabled. */
    request_timeout: durationOr(0),
    /** Unset → 0, disabled. */
    request_headers_timeout: durationOr(0),
    drain_timeout: durationOr(5),
    delayed_close_timeout: durationOr(1),
    max_request_headers_kb: uint32({ min: 1, max: 8192 }).default(60),
    generate_request_id: z.boolean().default(true),
    preserve_external_request_id: z.boolean().default(false),
    always_set_request_id_in_response: z.boolean().default(false),
    /** An empty name means Envoy's default, "envoy". */
    server_name: z.string().default('envoy').transform((name) => name || 'envoy'),
    server_header_transformation: protoEnum({ OVERWRITE: 0, APPEND_IF_ABSENT: 1, PASS_THROUGH: 2 }).default('OVERWRITE'),
    use_remote_address: z.boolean().default(false),
    xff_num_trusted_hops: uint32().default(0),
    skip_xff_append: z.boolean().default(false),
    via: z.string().default(''),
    /** x-forwarded-client-cert: what happens to the client's and how this hop's is added (mTLS only). */
    forward_client_cert_details: protoEnum({ SANITIZE: 0, FORWARD_ONLY: 1, APPEND_FORWARD: 2, SANITIZE_SET: 3, ALWAYS_FORWARD_ONLY: 4 }).default('SANITIZE'),
    set_current_client_cert_details: message('envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.SetCurrentClientCertDetails', {
      subject: z.boolean().default(false),
      cert: z.boolean().default(false),
      chain: z.boolean().default(false),
      dns: z.boolean().default(false),
      uri: z.boolean().default(false),
    }).optional(),
    strip_any_host_port: z.boolean().default(false),
    strip_matching_host_port: z.boolean().default(false),
    normalize_path: z.boolean().default(false),
    merge_slashes: z.boolean().default(false),
    access_log: z.array(accessLog).default([]),
    access_log_options: message('envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.HcmAccessLogOptions', {
      access_log_flush_interval: duration({ min: 1 }).optional(),
      flush_access_log_on_new_request: z.boolean().default(false),
      flush_log_on_tunnel_successfully_established: z.boolean().default(false),
    }).optional(),
  },
  {
    oneofs: [requiredOneof('rds', 'route_config', 'scoped_routes')],
    rules: (hcm, report) => {
      if (hcm.strip_any_host_port && hcm.strip_matching_host_port) {
        report(['strip_any_host_port'], 'Error: Only one of `strip_matching_host_port` or `strip_any_host_port` can be set.');
      }
      checkHttpFilterChain(hcm.http_filters, report);
    },
  },
);
export type HttpConnectionManager = z.output<typeof httpConnectionManager.schema>;

/**
 * Envoy's terminal-filter rule for the HTTP filter chain. The router is the only HTTP filter il
 * implements and it is terminal, so it must come last, once; an empty chain could answer nothing.
 */
function checkHttpFilterChain(filters: readonly HttpFilter[], report: (path: (string | number)[], message: string) => void): void {
  if (filters.length === 0) report(['http_filters'], 'the HTTP filter chain is empty: it must end with envoy.filters.http.router');
  filters.forEach((filter, i) => {
    if (i < filters.length - 1) {
      const type = HTTP_FILTER_FACTORY_NAMES[filter.typed_config['@type']];
      report(['http_filters', i], `Error: terminal filter named ${filter.name} of type ${type} must be the last filter in a http filter chain.`);
    }
  });
}
