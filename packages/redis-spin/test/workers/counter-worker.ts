// Child process: increments the shared file counter under the lock through RedisSpinLockBackend.
import { runCounterWorker } from '@dlock/conformance/worker';
import { Redis } from 'ioredis';
import { RedisSpinLockBackend } from '../../src/index.js';

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
await runCounterWorker({
  backends: { spin: new RedisSpinLockBackend(redis, { minDelayMs: 2, maxDelayMs: 50 }) },
  key: process.env.LOCK_KEY!,
  counterFile: process.env.COUNTER_FILE!,
  iterations: Number(process.env.ITERATIONS),
  lockOptions: { retry: { waitMs: 60_000 } },
});
await redis.quit();
