// Filled in by the upstream work; re-exported by ../index.ts.
export {};
