/** envoy.config.route.v3: the static route table of an HTTP connection manager. */
import * as z from 'zod';
import { dataSource, headersToAdd, headersToRemove, metadata, proxyProtocolConfig } from './core.js';
import { regexMatcher, stringMatcher } from './matcher.js';
import type { StringMatcher } from './matcher.js';
import { duration, durationOr, empty, headerName, message, nonEmptyString, oneof, protoEnum, requiredOneof, uint32, unsupported } from '../schema/proto.js';

// ---------------------------------------------------------------- matching

/**
 * A header condition. The deprecated one-field forms (`exact_match`, `prefix_match`, ...) are
 * folded into `string_match`, and a matcher with no condition becomes `present_match: true`
 * (Envoy's meaning), so runtime code handles two cases.
 */
export const headerMatcher = message(
  'envoy.config.route.v3.HeaderMatcher',
  {
    name: headerName(),
    exact_match: z.string().optional(),
    safe_regex_match: regexMatcher.optional(),
    range_match: unsupported('range matches are not implemented').optional(),
    present_match: z.boolean().optional(),
    prefix_match: nonEmptyString().optional(),
    suffix_match: nonEmptyString().optional(),
    contains_match: nonEmptyString().optional(),
    string_match: stringMatcher.optional(),
    invert_match: z.boolean().default(false),
    treat_missing_header_as_empty: z.boolean().default(false),
  },
  {
    oneofs: [oneof('exact_match', 'safe_regex_match', 'range_match', 'present_match', 'prefix_match', 'suffix_match', 'contains_match', 'string_match')],
  },
).transform(({ exact_match, safe_regex_match, prefix_match, suffix_match, contains_match, string_match, present_match, ...rest }) => {
  const legacy: StringMatcher | undefined =
    exact_match !== undefined ? { exact: exact_match, ignore_case: false }
    : safe_regex_match !== undefined ? { safe_regex: safe_regex_match, ignore_case: false }
    : prefix_match !== undefined ? { prefix: prefix_match, ignore_case: false }
    : suffix_match !== undefined ? { suffix: suffix_match, ignore_case: false }
    : contains_match !== undefined ? { contains: contains_match, ignore_case: false }
    : undefined;
  const matcher = string_match ?? legacy;
  return matcher ? { ...rest, string_match: matcher } : { ...rest, present_match: present_match ?? true };
});
export type HeaderMatcher = z.output<typeof headerMatcher>;

/** A query parameter condition; with neither field, the parameter must be present. */
export const queryParameterMatcher = message(
  'envoy.config.route.v3.QueryParameterMatcher',
  { name: z.string().min(1).max(1024), string_match: stringMatcher.optional(), present_match: z.boolean().optional() },
  { oneofs: [oneof('string_match', 'present_match')] },
).transform(({ string_match, present_match, ...rest }) => (string_match ? { ...rest, string_match } : { ...rest, present_match: present_match ?? true }));
export type QueryParameterMatcher = z.output<typeof queryParameterMatcher>;

export const routeMatch = message(
  'envoy.config.route.v3.RouteMatch',
  {
    prefix: z.string().optional(),
    path: z.string().optional(),
    safe_regex: regexMatcher.optional(),
    connect_matcher: empty('envoy.config.route.v3.RouteMatch.ConnectMatcher').optional(),
    path_separated_prefix: z.string().regex(/^[^?#]+[^?#/]$/, { error: 'path_separated_prefix must not end with "/" nor contain "?" or "#"' }).optional(),
    path_match_policy: unsupported('path match policy extensions are not implemented').optional(),
    case_sensitive: z.boolean().default(true),
    headers: z.array(headerMatcher).default([]),
    query_parameters: z.array(queryParameterMatcher).default([]),
  },
  {
    oneofs: [requiredOneof('prefix', 'path', 'safe_regex', 'connect_matcher', 'path_separated_prefix', 'path_match_policy')],
    rules: (match, report) => {
      if (match.path_separated_prefix !== undefined && !match.path_separated_prefix.startsWith('/')) {
        report(['path_separated_prefix'], "path_separated_prefix must start with '/'");
      }
    },
  },
);
export type RouteMatch = z.output<typeof routeMatch>;

// ---------------------------------------------------------------- actions

export const routeUpgradeConfig = message(
  'envoy.config.route.v3.RouteAction.UpgradeConfig',
  {
    upgrade_type: headerName(),
    enabled: z.boolean().default(true),
    connect_config: message('envoy.config.route.v3.RouteAction.UpgradeConfig.ConnectConfig', {
      proxy_protocol_config: proxyProtocolConfig.optional(),
      allow_post: z.boolean().default(false),
    }).optional(),
  },
  {
    rules: (upgrade, report) => {
      if (upgrade.connect_config && upgrade.upgrade_type.toUpperCase() !== 'CONNECT') {
        report(['connect_config'], `Non-CONNECT upgrade type ${upgrade.upgrade_type} has ConnectConfig`);
      }
    },
  },
);
export type RouteUpgradeConfig = z.output<typeof routeUpgradeConfig>;

export const clusterWeight = message(
  'envoy.config.route.v3.WeightedCluster.ClusterWeight',
  {
    name: z.string().default(''),
    cluster_header: headerName().optional(),
    weight: uint32().default(0),
    request_headers_to_add: headersToAdd(),
    request_headers_to_remove: headersToRemove(),
    response_headers_to_add: headersToAdd(),
    response_headers_to_remove: headersToRemove(),
  },
  {
    rules: (entry, report) => {
      if (entry.name !== '' && entry.cluster_header !== undefined) report(['cluster_header'], 'Only one of name or cluster_header can be specified');
      else if (entry.name === '' && entry.cluster_header === undefined) report([], 'At least one of name or cluster_header need to be specified');
    },
  },
);

export const weightedCluster = message(
  'envoy.config.route.v3.WeightedCluster',
  { clusters: z.array(clusterWeight).min(1), total_weight: uint32({ min: 1 }).optional() },
  {
    rules: (weighted, report) => {
      if (weighted.clusters.reduce((sum, entry) => sum + entry.weight, 0) === 0) {
        report(['clusters'], 'Sum of weights in the weighted_cluster must be greater than 0.');
      }
    },
  },
);
export type WeightedCluster = z.output<typeof weightedCluster>;

export const routeAction = message(
  'envoy.config.route.v3.RouteAction',
  {
    cluster: nonEmptyString().optional(),
    cluster_header: headerName().optional(),
    weighted_clusters: weightedCluster.optional(),
    cluster_specifier_plugin: unsupported('cluster specifier plugins are not implemented').optional(),
    prefix_rewrite: z.string().regex(/^[^\0\r\n]*$/, { error: 'prefix_rewrite must not contain NUL, CR or LF' }).optional(),
    regex_rewrite: message('envoy.type.matcher.v3.RegexMatchAndSubstitute', { pattern: regexMatcher, substitution: z.string() }).optional(),
    host_rewrite_literal: z.string().optional(),
    auto_host_rewrite: z.boolean().optional(),
    host_rewrite_header: headerName().optional(),
    /** Unset → 15 s; `0s` disables it. */
    timeout: durationOr(15),
    idle_timeout: duration().optional(),
    upgrade_configs: z.array(routeUpgradeConfig).default([]),
    max_stream_duration: message('envoy.config.route.v3.RouteAction.MaxStreamDuration', {
      max_stream_duration: duration().optional(),
      grpc_timeout_header_max: duration().optional(),
      grpc_timeout_header_offset: duration().optional(),
    }).optional(),
  },
  {
    oneofs: [
      requiredOneof('cluster', 'cluster_header', 'weighted_clusters', 'cluster_specifier_plugin'),
      oneof('host_rewrite_literal', 'auto_host_rewrite', 'host_rewrite_header'),
    ],
    rules: (action, report) => {
      if (action.prefix_rewrite !== undefined && action.regex_rewrite !== undefined) {
        report(['regex_rewrite'], 'Specify only one of prefix_rewrite, regex_rewrite or path_rewrite_policy');
      }
    },
  },
);
export type RouteAction = z.output<typeof routeAction>;

export const directResponseAction = message('envoy.config.route.v3.DirectResponseAction', {
  status: uint32({ min: 100, max: 599 }),
  body: dataSource.optional(),
});
export type DirectResponseAction = z.output<typeof directResponseAction>;

export const redirectAction = message(
  'envoy.config.route.v3.RedirectAction',
  {
    https_redirect: z.boolean().optional(),
    scheme_redirect: z.string().optional(),
    host_redirect: z.string().optional(),
    port_redirect: uint32({ max: 65535 }).optional(),
    path_redirect: z.string().optional(),
    prefix_rewrite: z.string().optional(),
    regex_rewrite: message('envoy.type.matcher.v3.RegexMatchAndSubstitute', { pattern: regexMatcher, substitution: z.string() }).optional(),
    response_code: protoEnum({ MOVED_PERMANENTLY: 0, FOUND: 1, SEE_OTHER: 2, TEMPORARY_REDIRECT: 3, PERMANENT_REDIRECT: 4 }).default('MOVED_PERMANENTLY'),
    strip_query: z.boolean().default(false),
  },
  { oneofs: [oneof('https_redirect', 'scheme_redirect'), oneof('path_redirect', 'prefix_rewrite', 'regex_rewrite')] },
);
export type RedirectAction = z.output<typeof redirectAction>;

// ---------------------------------------------------------------- routes, virtual hosts, tables

export const route = message(
  'envoy.config.route.v3.Route',
  {
    name: z.string().default(''),
    match: routeMatch,
    route: routeAction.optional(),
    redirect: redirectAction.optional(),
    direct_response: directResponseAction.optional(),
    filter_action: unsupported('filter actions are not implemented').optional(),
    non_forwarding_action: unsupported('non-forwarding actions are not implemented').optional(),
    metadata: metadata.optional(),
    request_headers_to_add: headersToAdd(),
    request_headers_to_remove: headersToRemove(),
    response_headers_to_add: headersToAdd(),
    response_headers_to_remove: headersToRemove(),
  },
  { oneofs: [requiredOneof('route', 'redirect', 'direct_response', 'filter_action', 'non_forwarding_action')] },
);
export type Route = z.output<typeof route>;

export const virtualHost = message('envoy.config.route.v3.VirtualHost', {
  name: nonEmptyString(),
  domains: z.array(nonEmptyString()).min(1),
  routes: z.array(route).default([]),
  require_tls: protoEnum({ NONE: 0, EXTERNAL_ONLY: 1, ALL: 2 }).default('NONE'),
  request_headers_to_add: headersToAdd(),
  request_headers_to_remove: headersToRemove(),
  response_headers_to_add: headersToAdd(),
  response_headers_to_remove: headersToRemove(),
});
export type VirtualHost = z.output<typeof virtualHost>;

export const routeConfiguration = message(
  'envoy.config.route.v3.RouteConfiguration',
  {
    name: z.string().default(''),
    virtual_hosts: z.array(virtualHost).default([]),
    internal_only_headers: headersToRemove(),
    request_headers_to_add: headersToAdd(),
    request_headers_to_remove: headersToRemove(),
    response_headers_to_add: headersToAdd(),
    response_headers_to_remove: headersToRemove(),
    /** Whether route clusters must exist; Envoy's default for a static route table is true. */
    validate_clusters: z.boolean().default(true),
  },
  {
    rules: (table, report) => {
      const seen = new Set<string>();
      table.virtual_hosts.forEach((host, i) => {
        host.domains.forEach((domain, j) => {
          const key = domain.toLowerCase();
          if (seen.has(key)) report(['virtual_hosts', i, 'domains', j], `Only unique values for domains are permitted. Duplicate entry of domain ${domain} in route ${table.name}`);
          seen.add(key);
        });
      });
    },
  },
);
export type RouteConfiguration = z.output<typeof routeConfiguration>;
