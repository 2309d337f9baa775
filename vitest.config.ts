import { defineConfig } from 'vitest/config';
import { workspaceAliases } from './vitest.shared.js';

const packages = [
  ['@il/core', 'packages/core'],
  ['@il/config', 'packages/config'],
  ['@il/tcp-proxy', 'packages/tcp-proxy'],
  ['@il/http-connect', 'packages/http-connect'],
  ['@il/proxy', 'apps/proxy'],
  ['@il/bench', 'bench'],
] as const;

export default defineConfig({
  resolve: { alias: workspaceAliases },
  test: {
    // Every network test binds 127.0.0.1 on free ports; two cores are shared by all files.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    teardownTimeout: 10_000,
    reporters: ['default', ['json', { outputFile: '.vitest/results.json' }]],
    projects: packages.map(([name, root]) => ({
      extends: true,
      test: { name, root, include: ['test/**/*.test.ts'] },
    })),
  },
});
