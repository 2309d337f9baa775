/**
 * @il/config: Envoy v3 bootstrap config (YAML or JSON) loaded into typed objects, with Envoy's
 * defaults filled in and Envoy's validation rules and error messages.
 */
export { loadConfig, loadConfigFile } from './load.js';
export { ConfigError, formatIssue } from './issues.js';
export { Duration } from './duration.js';
export { dump } from './dump.js';
export { compileRe2, re2Problem, type Re2 } from './regex.js';
export { toJsonSchema } from './json-schema.js';
export { addressString } from './address-string.js';
export { HTTP_PROTOCOL_OPTIONS_KEY, HTTP2_DEFAULTS } from './constants.js';
export { encodeBootstrap, decodeBootstrap } from './transfer.js';
export type * from './types.js';
