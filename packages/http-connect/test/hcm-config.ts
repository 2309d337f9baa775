// A connection manager config for router tests: one listener on port 0, routes and clusters given
// as YAML fragments, an access log when asked.

export interface HcmConfigOptions {
  /** YAML for `routes:` of the single virtual host (indented by the builder). */
  routes: string;
  /** YAML list entries for `clusters:` (each starting with `- name:`). */
  clusters?: string;
  /** Extra HCM fields (YAML lines). */
  hcm?: string;
  /** Extra virtual host fields. */
  virtualHost?: string;
  domains?: string;
  logPath?: string;
  logFormat?: string;
  bootstrapExtra?: string;
  listenersExtra?: string;
}

function indent(text: string, spaces: number): string {
  const pad = ' '.repeat(spaces);
  return text
    .trim()
    .split('\n')
    .map((line) => pad + line)
    .join('\n');
}

export const DEFAULT_LOG_FORMAT =
  '%REQ(:METHOD)% %REQ(:PATH)% %REQ(:AUTHORITY)% %PROTOCOL% %RESPONSE_CODE% %RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS% %UPSTREAM_CLUSTER% %UPSTREAM_HOST% %ROUTE_NAME% %BYTES_RECEIVED% %BYTES_SENT% %RESP(SERVER)% %UPSTREAM_TRANSPORT_FAILURE_REASON%\\n';

export function hcmConfig(options: HcmConfigOptions): string {
  const log =
    options.logPath === undefined
      ? ''
      : `
access_log:
- name: log
  typed_config:
    "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
    path: ${options.logPath}
    log_format: { text_format_source: { inline_string: "${options.logFormat ?? DEFAULT_LOG_FORMAT}" } }`;
  return `
${options.bootstrapExtra ?? ''}
static_resources:
  listeners:
  - name: http
    address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ingress
${indent(`${options.hcm ?? ''}\n${log}`, 10)}
          route_config:
            name: local_route
            virtual_hosts:
            - name: vh
              domains: [${options.domains ?? '"*"'}]
${options.virtualHost === undefined ? '' : indent(options.virtualHost, 14)}
              routes:
${indent(options.routes, 14)}
          http_filters:
          - name: envoy.filters.http.router
            typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router }
${options.listenersExtra ?? ''}
  clusters:
${indent(options.clusters ?? '- name: unused\n  load_assignment: { cluster_name: unused, endpoints: [] }', 2)}
`;
}

/** A STATIC cluster entry at 127.0.0.1:port (HTTP/2 with `http2: true`). */
export function cluster(name: string, port: number, options: { http2?: boolean | string; extra?: string } = {}): string {
  const h2 = options.http2 !== undefined && options.http2 !== false
    ? `
  typed_extension_protocol_options:
    envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
      "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
      explicit_http_config: { http2_protocol_options: ${options.http2 === true ? '{}' : options.http2} }`
    : '';
  return `- name: ${name}${h2}${options.extra === undefined ? '' : `\n${indent(options.extra, 2)}`}
  load_assignment:
    cluster_name: ${name}
    endpoints: [ { lb_endpoints: [ { endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${port} } } } } ] } ]`;
}
