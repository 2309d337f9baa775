export { parseArgs, usage, toCommandLineOptions, type CliOptions, type Mode, type DrainStrategy, type ParseResult } from './options.js';
export { runValidate, loadFromOptions, configName, type ValidateResult } from './validate.js';
export { formatVersion, buildVersion, VERSION, ENVOY_API_VERSION } from './version.js';
