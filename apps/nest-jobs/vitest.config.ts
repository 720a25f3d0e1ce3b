import { defineDlockVitestConfig } from '../../vitest.shared.js';

export default defineDlockVitestConfig({
  test: { include: ['test/**/*.test.ts'], env: { RECOUNT_MS: '500', NO_COLOR: '1' } },
});
