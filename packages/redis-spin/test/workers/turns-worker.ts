// Child process: CALLERS callers loop acquire -> HOLD_MS -> release on one key from START_AT for
// RUN_MS, then print the fencing tokens this process got, as JSON (the parent orders them).
import { setTimeout as sleep } from 'node:timers/promises';
import { LockManager } from '@dlock/core';
import { Redis } from 'ioredis';
import { RedisSpinLockBackend } from '../../src/index.js';

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const manager = new LockManager({ backends: { spin: new RedisSpinLockBackend(redis) } });
const key = process.env.LOCK_KEY!;
const startAt = Number(process.env.START_AT);
const endAt = startAt + Number(process.env.RUN_MS);
const holdMs = Number(process.env.HOLD_MS);

await sleep(Math.max(0, startAt - Date.now()));
const fences: number[] = [];
await Promise.all(
  Array.from({ length: Number(process.env.CALLERS) }, async () => {
    while (Date.now() < endAt) {
      const lock = await manager.acquire(key, { leaseMs: 10_000, retry: { waitMs: 30_000 } });
      // Only acquisitions while every process still contends count.
      if (Date.now() < endAt) fences.push(lock.fencingToken!);
      await sleep(holdMs);
      await lock.release();
    }
  }),
);
console.log(`fences ${JSON.stringify(fences)}`);
await manager.close();
await redis.quit();
