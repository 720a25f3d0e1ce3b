import { defineDlockVitestConfig } from '../../vitest.shared.js';

// `pnpm test:chaos`: the bounded chaos run, with its own JSON report for `.ci/run`'s final count.
// (Set after merging: mergeConfig would append to the shared include and reporters.)
const shared = defineDlockVitestConfig();

export default {
  ...shared,
  test: {
    ...shared.test,
    include: ['chaos/**/*.chaos.test.ts'],
    reporters: ['default', ['json', { outputFile: 'test-results/vitest-chaos.json' }]],
    testTimeout: 180_000,
    hookTimeout: 60_000,
  },
};
