import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig } from '../src/index.js';
import type { ConfigIssue, ConfigSource, LoadedConfig } from '../src/index.js';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const EXAMPLES_DIR = `${REPO_ROOT}examples`;

/** Strips the first newline and the common indentation, so YAML can be written inline. */
export function yaml(strings: TemplateStringsArray, ...values: unknown[]): string {
  const text = String.raw({ raw: strings }, ...values).replace(/^\n/, '');
  const lines = text.split('\n');
  const indent = Math.min(...lines.filter((l) => l.trim() !== '').map((l) => /^ */.exec(l)?.[0].length ?? 0));
  return lines.map((l) => l.slice(indent)).join('\n');
}

/** The issues a load reports; fails the test if the load succeeds or throws anything else. */
export function issuesOf(sources: ConfigSource | ConfigSource[]): readonly ConfigIssue[] {
  try {
    loadConfig(sources);
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  throw new Error('expected the config to be refused');
}

export function load(text: string, name = 'test.yaml'): LoadedConfig {
  return loadConfig({ text, name });
}
