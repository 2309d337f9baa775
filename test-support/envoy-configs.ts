import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Where Envoy's example configs are: IL_ENVOY_CONFIGS, or ../shared/envoy-configs beside the clone. */
export const ENVOY_CONFIGS = resolve(process.env.IL_ENVOY_CONFIGS ?? join(REPO_ROOT, '..', 'shared', 'envoy-configs'));

/** The *.yaml files there, sorted; throws a clear error when the folder is missing or empty. */
export function envoyConfigFiles(): string[] {
  if (!existsSync(ENVOY_CONFIGS)) {
    throw new Error(
      `Envoy's example configs are missing: ${ENVOY_CONFIGS} does not exist. Set IL_ENVOY_CONFIGS to the folder holding them (../shared/envoy-configs by default).`,
    );
  }
  const files = readdirSync(ENVOY_CONFIGS).filter((f) => f.endsWith('.yaml')).sort();
  if (files.length === 0) throw new Error(`Envoy's example configs are missing: ${ENVOY_CONFIGS} holds no *.yaml file.`);
  return files;
}

/** The text of one of Envoy's example configs (through envoyConfigFiles' checks). */
export function envoyConfig(file: string): string {
  if (!envoyConfigFiles().includes(file)) throw new Error(`Envoy's example config ${file} is not in ${ENVOY_CONFIGS}`);
  return readFileSync(join(ENVOY_CONFIGS, file), 'utf8');
}
