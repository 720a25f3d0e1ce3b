// Sums every vitest JSON report (`<package>/test-results/*.json`: the main project, the slow-link
// project, the chaos run) into the one line CI reads: "N passed, N failed".
// A test file that failed to load has no test results; it counts as one failure so it cannot hide.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const roots = ['packages', 'apps', '.'];
const reports = [];
for (const root of roots) {
  const dirs =
    root === '.' ? ['bench'] : existsSync(root) ? readdirSync(root).map((name) => join(root, name)) : [];
  for (const dir of dirs) {
    const results = join(dir, 'test-results');
    if (!existsSync(results)) continue;
    for (const name of readdirSync(results).sort()) {
      if (name.endsWith('.json')) reports.push(join(results, name));
    }
  }
}

let passed = 0;
let failed = 0;
let skipped = 0;
for (const file of reports) {
  const report = JSON.parse(readFileSync(file, 'utf8'));
  passed += report.numPassedTests ?? 0;
  failed += report.numFailedTests ?? 0;
  skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  for (const suite of report.testResults ?? []) {
    if (suite.status === 'failed' && (suite.assertionResults ?? []).length === 0) failed += 1;
  }
}
if (reports.length === 0) {
  console.error('No vitest JSON report found (expected <package>/test-results/*.json).');
  failed += 1;
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
