import { join } from 'node:path';
import { type RunningWorker, startWorker } from '@dlock/conformance';
import { REDIS_URL } from './redis-backends.js';

const packageRoot = join(import.meta.dirname, '..', '..');

/**
 * Start a Nest app from `test/workers/<name>.ts` in its own Node.js process (tsx, workspace packages
 * from source). tsx reads this package's tsconfig, whose experimentalDecorators Nest needs.
 */
export function startNestWorker(name: string, env: Record<string, string>): RunningWorker {
  return startWorker({
    script: join(packageRoot, 'test', 'workers', `${name}.ts`),
    env: { REDIS_URL, TSX_TSCONFIG_PATH: join(packageRoot, 'tsconfig.json'), ...env },
    timeoutMs: 60_000,
  });
}
