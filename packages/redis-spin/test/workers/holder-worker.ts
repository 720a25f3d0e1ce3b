// Child process: takes the lock (renewed while the process lives), prints "holding", idles until killed.
import { LockManager } from '@dlock/core';
import { Redis } from 'ioredis';
import { RedisSpinLockBackend } from '../../src/index.js';

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const manager = new LockManager({ backends: { spin: new RedisSpinLockBackend(redis) } });
const lock = await manager.acquire(process.env.LOCK_KEY!, {
  leaseMs: Number(process.env.LEASE_MS),
  autoRenew: true,
});
console.log(`holding ${lock.fencingToken}`);
setInterval(() => {}, 1_000);
