// The route table: virtual hosts, route matching, actions, upgrades and header mutations of an
// HTTP connection manager's RouteConfiguration, compiled once (re-exported by ../index.ts).
export { compileRouteConfiguration, upgradeTypeOf } from './route-table.js';
export { RouteConfigError } from './errors.js';
export { stripHostPort, authorityPort } from './authority.js';
export { MAX_DIRECT_RESPONSE_BODY_BYTES } from './direct-response.js';
// Envoy's HeaderParser (headers_to_add / _to_remove with format strings), for other users of HeaderValueOption lists.
export { HeaderMutations } from './header-mutations.js';
export type {
  RouteTable,
  RouteTableOptions,
  RouteRequest,
  RouteMatchResult,
  RouteMatchAction,
  RouteForward,
  RouteDirectResponse,
  RouteRedirect,
  UpgradeDecision,
  ConnectTermination,
  CompiledVirtualHost,
  CompiledRoute,
} from './types.js';
