#!/usr/bin/env node
// Sums vitest JSON reports into the one line CI reads: "N passed, N failed".
// A report that is missing (the run never started) adds nothing, so a run with no tests shows 0 passed.
import { existsSync, readFileSync } from 'node:fs';

let passed = 0;
let failed = 0;
for (const file of process.argv.slice(2)) {
  if (!existsSync(file)) {
    process.stderr.write(`[ci] no test report at ${file}: that suite did not run\n`);
    continue;
  }
  const report = JSON.parse(readFileSync(file, 'utf8'));
  for (const suite of report.testResults ?? []) {
    for (const t of suite.assertionResults ?? []) {
      if (t.status === 'passed') passed++;
      else if (t.status === 'failed') failed++;
    }
    // A test file that failed to load has no assertion results but counts as a failure.
    if ((suite.assertionResults ?? []).length === 0 && suite.status === 'failed') failed++;
  }
}
process.stdout.write(`${passed} passed, ${failed} failed\n`);
