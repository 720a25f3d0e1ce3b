import { defineConfig, mergeConfig } from 'vitest/config';
import { defineDlockVitestConfig } from './vitest.shared.js';

// The whole repository by kind, for development: `pnpm test:unit` needs no server and runs in
// seconds; `test:int` talks to the real Redis and MariaDB; `test:fault` pauses, kills and restarts
// private servers. CI runs every package's own config through `pnpm test` instead (turbo), which
// also covers the slow-link, chaos and consumer suites.
const notUnit = ['**/*.int.test.ts', '**/*.fault.test.ts', '**/*.slow-link.test.ts', '**/*.chaos.test.ts'];
const ignored = ['**/node_modules/**', '**/dist/**', 'packages/consumer-tests/**'];
const everywhere = (pattern: string) => [`packages/*/${pattern}`, `apps/*/${pattern}`];

const config = mergeConfig(
  defineDlockVitestConfig(),
  defineConfig({
    test: {
      projects: [
        {
          extends: true,
          test: {
            name: 'unit',
            include: [...everywhere('src/**/*.test.ts'), ...everywhere('test/**/*.test.ts')],
            exclude: [...ignored, ...notUnit],
            env: { LOG_LEVEL: 'silent' },
          },
        },
        {
          extends: true,
          test: {
            name: 'int',
            include: [...everywhere('test/**/*.int.test.ts'), ...everywhere('test/**/*.slow-link.test.ts')],
            exclude: ignored,
            env: { LOG_LEVEL: 'silent', STOCK_LOCK_WAIT_MS: '2000' },
            testTimeout: 60_000,
          },
        },
        {
          extends: true,
          test: {
            name: 'fault',
            include: everywhere('test/**/*.fault.test.ts'),
            exclude: ignored,
            fileParallelism: false,
            testTimeout: 120_000,
          },
        },
      ],
    },
  }),
);

// Development runs print only; the JSON reports CI sums come from each package's own run.
config.test = { ...config.test, reporters: ['default'] };

export default config;
