// Filled in by the tunneling work; re-exported by ../index.ts.
export {};
