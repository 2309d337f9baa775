/** `--mode validate`, and the one way both modes load the config the command line names. */
import { ConfigError, formatIssue, loadConfig, loadConfigFile, type Bootstrap, type LoadedConfig } from '@il/config';
import { validateNetworkFilters } from '@il/core';
import { networkFilterFactories } from '../server/filter-factories.js';
import type { CliOptions } from './options.js';

type ConfigOptions = Pick<CliOptions, 'configPath' | 'configYaml' | 'allowUnknownStaticFields'>;

/** The name a config is known by in messages: its path, or `--config-yaml` when only that was given. */
export function configName(options: ConfigOptions): string {
  return options.configPath ?? '--config-yaml';
}

/**
 * Loads `-c` with `--config-yaml` merged over it, as Envoy merges them (either may be alone).
 * Throws ConfigError listing every issue.
 */
export function loadFromOptions(options: ConfigOptions): LoadedConfig {
  // What the filters would refuse when they are built is a config issue too, with its place.
  const factories = networkFilterFactories();
  const loadOptions = {
    allowUnknownFields: options.allowUnknownStaticFields,
    check: (bootstrap: Bootstrap) => validateNetworkFilters(bootstrap, factories),
  };
  if (options.configPath !== undefined) {
    return loadConfigFile(options.configPath, {
      ...loadOptions,
      ...(options.configYaml === undefined ? {} : { overlayYaml: options.configYaml }),
    });
  }
  if (options.configYaml !== undefined) return loadConfig({ text: options.configYaml, name: '--config-yaml', format: 'yaml' }, loadOptions);
  throw new ConfigError([{ path: '', message: 'no config: give -c/--config-path or --config-yaml' }]);
}

export interface ValidateResult {
  readonly exitCode: 0 | 1;
  /** What to print (stdout on 0, stderr on 1); ends with a newline. */
  readonly output: string;
}

/**
 * Loads the config and reports: every issue, one per line as `file:line:col: path: message`,
 * and exit 1; or the warnings and Envoy's `configuration '<path>' OK`, and exit 0.
 */
export function runValidate(options: ConfigOptions): ValidateResult {
  const name = configName(options);
  try {
    const { warnings } = loadFromOptions(options);
    const lines = warnings.map((warning) => `warning: ${formatIssue(warning)}`);
    lines.push(`configuration '${name}' OK`);
    return { exitCode: 0, output: `${lines.join('\n')}\n` };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const count = error.issues.length;
    const header = `error initializing configuration '${name}': ${count} issue${count === 1 ? '' : 's'}`;
    return { exitCode: 1, output: `${header}\n${error.message}\n` };
  }
}
