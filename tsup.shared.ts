import { defineConfig } from 'tsup';

/** Every published package builds the same way: dual ESM + CJS with types, from src/index.ts. */
export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  // Every package's public types reach Node's (EventEmitter, timers): reference them, so a program
  // with `types: []` (the TypeScript 6+ default) still resolves them.
  dts: { banner: '/// <reference types="node" />' },
  sourcemap: true,
  clean: true,
  target: 'node20',
});
