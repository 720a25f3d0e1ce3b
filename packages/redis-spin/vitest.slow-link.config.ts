import { defineDlockVitestConfig } from '../../vitest.shared.js';

// The conformance suite a second time, through a FaultyLink with 2 ms ± 1 ms each way: its own
// project with its own JSON report, run by `pnpm test` after the main one. (Set after merging:
// mergeConfig would append to the shared include and reporters instead of replacing them.)
const shared = defineDlockVitestConfig();

export default {
  ...shared,
  test: {
    ...shared.test,
    include: ['test/**/*slow-link*.test.ts'],
    reporters: ['default', ['json', { outputFile: 'test-results/vitest-slow-link.json' }]],
  },
};
