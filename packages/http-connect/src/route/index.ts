// Filled in by the route work; re-exported by ../index.ts.
export {};
