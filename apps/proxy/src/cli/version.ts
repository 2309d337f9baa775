/** What `--version` and `/server_info` say. */
import { readFileSync } from 'node:fs';

/** The Envoy API il's config and admin output follow. */
export const ENVOY_API_VERSION = 'v3';

function readVersion(): string {
  try {
    // src/cli/ and dist/cli/ are both two levels below the package root.
    const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
    const pkg = JSON.parse(text) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

/** il-proxy's own version (the package's). */
export const VERSION: string = readVersion();

/** `il-proxy/0.1.0/Node.js v20.19.0/envoy-api-v3`: Envoy's `<hash>/<version>/<status>/<build>` slash style. */
export function buildVersion(): string {
  return `il-proxy/${VERSION}/Node.js ${process.version}/envoy-api-${ENVOY_API_VERSION}`;
}

/** The `--version` text, shaped like Envoy's `envoy  version: ...`. */
export function formatVersion(): string {
  return `il-proxy version: ${buildVersion()}\n`;
}
