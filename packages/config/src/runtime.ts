/**
 * `@il/config/runtime`: what code that *runs* a validated bootstrap needs from @il/config (the
 * types, Duration, addressString, dump, decodeBootstrap), without the validator. Importing the
 * package root builds every zod schema, which costs a process about 27 MiB of memory; a server
 * that validated its config elsewhere (il-proxy does it in a worker thread) does not pay that.
 */
export { Duration } from './duration.js';
export { addressString } from './address-string.js';
export { HTTP_PROTOCOL_OPTIONS_KEY, HTTP2_DEFAULTS } from './constants.js';
export { dump } from './dump.js';
export { compileRe2, re2Problem, type Re2 } from './regex.js';
export { ConfigError, formatIssue } from './issues.js';
export { encodeBootstrap, decodeBootstrap } from './transfer.js';
export type * from './types.js';
