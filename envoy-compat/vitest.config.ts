import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { workspaceAliases } from '../vitest.shared.js';

/** The Envoy compatibility suite: Envoy's own example configs, run against the TypeScript sources. */
export default defineConfig({
  root: fileURLToPath(new URL('..', import.meta.url)),
  resolve: { alias: workspaceAliases },
  test: {
    include: ['envoy-compat/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default', ['json', { outputFile: '.vitest/envoy-compat.json' }]],
  },
});
