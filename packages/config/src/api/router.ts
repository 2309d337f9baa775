/** The router HTTP filter: the terminal filter of every HTTP filter chain. */
import * as z from 'zod';
import { typedConfig, typedMessage } from '../schema/proto.js';

export const router = typedMessage('envoy.extensions.filters.http.router.v3.Router', ['envoy.filters.http.router'], {
  dynamic_stats: z.boolean().default(true),
  start_child_span: z.boolean().default(false),
  suppress_envoy_headers: z.boolean().default(false),
});
export type Router = z.output<typeof router.schema>;

/** The HTTP filters il implements. */
export const httpFilterConfig = typedConfig('HTTP filter', [router]);
export type HttpFilterConfig = z.output<typeof httpFilterConfig>;

/** Envoy's factory name for each HTTP filter type, as used in its "terminal filter" errors. */
export const HTTP_FILTER_FACTORY_NAMES: Readonly<Record<HttpFilterConfig['@type'], string>> = {
  [router.typeUrl]: 'envoy.filters.http.router',
};
