import { defineConfig } from 'tsup';
import shared from '../../tsup.shared.js';

// The shared build (dual ESM + CJS from src/index.ts) plus the `dlock` bin, ESM only.
export default defineConfig([
  shared as Exclude<typeof shared, unknown[] | ((...args: never[]) => unknown)>,
  { entry: ['src/cli.ts'], format: ['esm'], dts: false, sourcemap: true, target: 'node20', clean: false },
]);
