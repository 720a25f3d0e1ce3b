import { defineConfig, type Options } from 'tsup';
import shared from '../../tsup.shared.js';

// Two entries: the main one needs no store client; `@dlock/testing/servers` needs ioredis.
export default defineConfig({
  ...(shared as Options),
  entry: ['src/index.ts', 'src/servers/index.ts'],
});
