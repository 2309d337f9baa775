import { fileURLToPath } from 'node:url';

const source = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

/**
 * Tests run against the TypeScript sources of every workspace package, never stale builds.
 * Exact matches, so that `@il/config/runtime` is not read as a path under `@il/config`.
 */
export const workspaceAliases = [
  ...['core', 'config', 'tcp-proxy', 'http-connect'].map((name) => ({
    find: new RegExp(`^@il/${name}$`),
    replacement: source(`./packages/${name}/src/index.ts`),
  })),
  { find: /^@il\/config\/runtime$/, replacement: source('./packages/config/src/runtime.ts') },
];
