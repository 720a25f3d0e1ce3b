import { defineConfig, mergeConfig, type ViteUserConfig } from 'vitest/config';

// Workspace packages resolve to their TypeScript source, so tests never need a build first.
const conditions = ['@dlock/source', 'node', 'import', 'module', 'default'];
// Vitest also hands the SSR conditions to Node as --conditions for externalized dependencies: keep
// "import" out of them, or Node's own require() would pick ESM files of CommonJS packages (express).
const nodeConditions = ['@dlock/source', 'node', 'development|production'];

/** The vitest config every package starts from: source resolution and the JSON report `.ci/run` reads. */
export function defineDlockVitestConfig(overrides: ViteUserConfig = {}): ViteUserConfig {
  return mergeConfig(
    defineConfig({
      resolve: { conditions },
      ssr: { resolve: { conditions: nodeConditions, externalConditions: ['@dlock/source'] } },
      test: {
        include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
        reporters: ['default', ['json', { outputFile: 'test-results/vitest.json' }]],
        testTimeout: 30_000,
        hookTimeout: 30_000,
      },
    }),
    overrides,
  );
}

/**
 * A backend's slow-link project: the conformance suite a second time, through a FaultyLink, with
 * its own JSON report, run by `pnpm test` after the main one. (Built by spreading, not mergeConfig,
 * which would append to the shared include and reporters instead of replacing them.)
 */
export function defineSlowLinkVitestConfig(): ViteUserConfig {
  const shared = defineDlockVitestConfig();
  return {
    ...shared,
    test: {
      ...shared.test,
      include: ['test/**/*slow-link*.test.ts'],
      reporters: ['default', ['json', { outputFile: 'test-results/vitest-slow-link.json' }]],
    },
  };
}
