// Child process for the Redis load test: CONCURRENCY callers of this process take the lock
// ITERATIONS times in total, holding it HOLD_MS each time, through BACKEND ("spin" or "pubsub").
// With ACQUISITION_LOG set, each holder appends WORKER_INDEX to that file while it holds the lock,
// which records the order in which processes got it.
import { appendFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { LockManager } from '@dlock/core';
import { RedisSpinLockBackend } from '@dlock/redis-spin';
import { Redis } from 'ioredis';
import { RedisPubSubLockBackend } from '../../src/index.js';

const redis = new Redis(process.env.REDIS_URL!);
const backend =
  process.env.BACKEND === 'spin'
    ? // A latency-tuned spin: polls every 5-10 ms, like the usual "retry every 10 ms" libraries.
      new RedisSpinLockBackend(redis, { minDelayMs: 5, maxDelayMs: 10 })
    : new RedisPubSubLockBackend(redis);
const manager = new LockManager({ backends: { main: backend } });
const holdMs = Number(process.env.HOLD_MS);
let remaining = Number(process.env.ITERATIONS);
const caller = async () => {
  while (remaining > 0) {
    remaining--;
    await manager.withLock(process.env.LOCK_KEY!, { retry: { waitMs: 60_000 } }, async () => {
      if (process.env.ACQUISITION_LOG)
        await appendFile(process.env.ACQUISITION_LOG, `${process.env.WORKER_INDEX}\n`);
      await sleep(holdMs);
    });
  }
};
await Promise.all(Array.from({ length: Number(process.env.CONCURRENCY) }, caller));
await manager.close();
await redis.quit();
console.log('done');
