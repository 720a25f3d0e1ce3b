import { defineConfig } from 'tsup';

/** Every published package builds the same way: dual ESM + CJS with types, from src/index.ts. */
export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
});
