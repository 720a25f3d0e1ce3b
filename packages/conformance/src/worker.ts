/**
 * Worker-side helpers for multi-process tests: a worker script builds its backend, then calls
 * `runCounterWorker`. Exported as `@dlock/conformance/worker`.
 */
import { type CallLockOptions, type LockBackend, LockManager } from '@dlock/core';
import { incrementFileCounter } from './process-workers.js';

export interface CounterWorkerOptions {
  readonly backends: Record<string, LockBackend>;
  readonly key: string;
  readonly counterFile: string;
  readonly iterations: number;
  /** Concurrent callers inside this process. Default 2. */
  readonly concurrency?: number;
  readonly lockOptions?: CallLockOptions;
}

/** Increment the shared file counter `iterations` times, each under the lock; prints "done <n>". */
export async function runCounterWorker(options: CounterWorkerOptions): Promise<void> {
  const manager = new LockManager({ backends: options.backends });
  const lockOptions: CallLockOptions = options.lockOptions ?? { retry: { waitMs: 60_000 } };
  let remaining = options.iterations;
  const loop = async () => {
    while (remaining > 0) {
      remaining--;
      await manager.withLock(options.key, lockOptions, () => incrementFileCounter(options.counterFile));
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 2 }, loop));
  await manager.close();
  console.log(`done ${options.iterations}`);
}
