import { defineDlockVitestConfig } from '../../vitest.shared.js';

export default defineDlockVitestConfig({
  // Nest prints bootstrap logs and the filter's error lines; tests that care capture them.
  test: { env: { NO_COLOR: '1' }, testTimeout: 60_000 },
});
