import { defineDlockVitestConfig } from '../../vitest.shared.js';

export default defineDlockVitestConfig({
  test: {
    typecheck: { enabled: true, include: ['test/**/*.test-d.ts'], tsconfig: './tsconfig.json' },
  },
});
