import { fileURLToPath } from 'node:url';

/** Tests run against the TypeScript sources of every workspace package, never stale builds. */
export const workspaceAliases = Object.fromEntries(
  ['core', 'config', 'tcp-proxy', 'http-connect'].map((name) => [
    `@il/${name}`,
    fileURLToPath(new URL(`./packages/${name}/src/index.ts`, import.meta.url)),
  ]),
);
