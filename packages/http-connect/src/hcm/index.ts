// Filled in by the hcm work; re-exported by ../index.ts.
export {};
