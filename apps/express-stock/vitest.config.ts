import { defineDlockVitestConfig } from '../../vitest.shared.js';

const config = defineDlockVitestConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Quiet logs and a short stock-lock wait so the 503 LockTimeoutError path is testable in-process;
    // the multi-process tests give their servers a long wait explicitly.
    env: { LOG_LEVEL: 'silent', STOCK_LOCK_WAIT_MS: '2000' },
    testTimeout: 60_000,
  },
});

export default config;
