import { defineDlockVitestConfig } from '../../vitest.shared.js';

// One file; installs run once per project, in parallel, before the first test that needs them.
export default defineDlockVitestConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 240_000,
    hookTimeout: 240_000,
    maxConcurrency: 8,
  },
});
