// Child process: increments the shared file counter under the lock, waiting through the backend
// named by BACKEND ("pubsub" or "spin"): the mixed test runs both kinds on one key.
import { runCounterWorker } from '@dlock/conformance/worker';
import { RedisSpinLockBackend } from '@dlock/redis-spin';
import { Redis } from 'ioredis';
import { RedisPubSubLockBackend } from '../../src/index.js';

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const backend =
  process.env.BACKEND === 'spin'
    ? new RedisSpinLockBackend(redis, { minDelayMs: 2, maxDelayMs: 50 })
    : new RedisPubSubLockBackend(redis);
await runCounterWorker({
  backends: { main: backend },
  key: process.env.LOCK_KEY!,
  counterFile: process.env.COUNTER_FILE!,
  iterations: Number(process.env.ITERATIONS),
  concurrency: Number(process.env.CONCURRENCY ?? 2),
  lockOptions: { retry: { waitMs: 60_000 } },
});
await redis.quit();
