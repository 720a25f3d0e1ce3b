// Child process for the semaphore and read-write tests across OS processes. Every section it runs
// reports itself to Redis (counters under OBSERVE_PREFIX), so the test sees what happened across
// all processes at once: how many were inside, and whether a writer ever overlapped anyone.
//   MODE=semaphore  ITERATIONS callers per process, half through @DistributedSemaphore, half
//                   through withSemaphore / acquireSemaphore; each inside ~SECTION_MS
//   MODE=rw         readers (@DistributedLock mode 'read', withLock mode 'read') and writers
//                   (withLock mode 'write', plain withLock, acquire) mixed
//   MODE=readers    a steady stream of overlapping readers for DURATION_MS
//   MODE=hold       take one permit (LEASE_MS, renewed), print "holding", idle until killed
import { setTimeout as sleep } from 'node:timers/promises';
import { DistributedLock, DistributedSemaphore, LockManager } from '@dlock/core';
import { Redis } from 'ioredis';
import { RedisPubSubLockBackend } from '../../src/index.js';

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const manager = new LockManager({ backends: { pubsub: new RedisPubSubLockBackend(redis) } });
const key = process.env.LOCK_KEY!;
const observe = process.env.OBSERVE_PREFIX!;
const permits = Number(process.env.PERMITS ?? '1');
const iterations = Number(process.env.ITERATIONS ?? '0');
const sectionMs = Number(process.env.SECTION_MS ?? '20');
const retry = { waitMs: 60_000 };

// Enter: +1 on the counter, remember the highest value seen; a writer also checks it is alone.
const ENTER = `
local n = redis.call('INCR', KEYS[1])
local peak = tonumber(redis.call('GET', KEYS[2]) or '0')
if n > peak then redis.call('SET', KEYS[2], n) end
if ARGV[1] == 'write' and (n ~= 1 or tonumber(redis.call('GET', KEYS[3]) or '0') ~= 0) then
  redis.call('INCR', KEYS[4])
end
if ARGV[1] == 'read' and tonumber(redis.call('GET', KEYS[3]) or '0') ~= 0 then redis.call('INCR', KEYS[4]) end
return n`;

async function inside(role: 'permit' | 'read' | 'write', ms = sectionMs): Promise<void> {
  const counter = `${observe}:${role === 'write' ? 'writers' : 'inside'}`;
  const other = `${observe}:${role === 'write' ? 'inside' : 'writers'}`;
  await redis.eval(ENTER, 4, counter, `${counter}:peak`, other, `${observe}:violations`, role);
  await sleep(ms);
  await redis.decr(counter);
  await redis.incr(`${observe}:done`);
}

class Payments {
  @DistributedSemaphore({ key: '{0}', permits, retry, manager })
  async authorise(_semaphoreKey: string): Promise<void> {
    await inside('permit');
  }
}

class Catalog {
  @DistributedLock({ key: '{0}', mode: 'read', retry, manager })
  async read(_lockKey: string, ms: number): Promise<void> {
    await inside('read', ms);
  }
}

const mode = process.env.MODE;
if (mode === 'semaphore') {
  const payments = new Payments();
  await Promise.all(
    Array.from({ length: iterations }, async (_, i) => {
      if (i % 3 === 0) return payments.authorise(key);
      if (i % 3 === 1) return manager.withSemaphore(key, { permits, retry }, () => inside('permit'));
      const permit = await manager.acquireSemaphore(key, { permits, retry, autoRenew: true });
      try {
        await inside('permit');
      } finally {
        await permit.release();
      }
    }),
  );
} else if (mode === 'rw') {
  const catalog = new Catalog();
  await Promise.all(
    Array.from({ length: iterations }, async (_, i) => {
      await sleep((i % 5) * 5);
      switch (i % 6) {
        case 0:
          return catalog.read(key, sectionMs);
        case 1:
          return manager.withLock(key, { mode: 'read', retry }, () => inside('read'));
        case 2:
          return manager.withLock(key, { mode: 'write', retry }, () => inside('write', 5));
        case 3:
          return manager.withLock(key, { retry }, () => inside('write', 5));
        case 4: {
          const lock = await manager.acquire(key, { mode: 'read', retry });
          try {
            await inside('read');
          } finally {
            await lock.release();
          }
          return;
        }
        default:
          return catalog.read(key, sectionMs);
      }
    }),
  );
} else if (mode === 'readers') {
  // Overlapping readers back to back: a new one every 15 ms, each holding 60 ms.
  const catalog = new Catalog();
  const until = Date.now() + Number(process.env.DURATION_MS);
  const running: Promise<void>[] = [];
  while (Date.now() < until) {
    running.push(catalog.read(key, 60));
    await sleep(15);
  }
  await Promise.all(running);
} else if (mode === 'hold') {
  const permit = await manager.acquireSemaphore(key, {
    permits,
    leaseMs: Number(process.env.LEASE_MS),
    autoRenew: true,
  });
  console.log(`holding ${permit.fencingToken}`);
  setInterval(() => {}, 1_000);
}
if (mode !== 'hold') {
  await manager.close();
  redis.disconnect();
  console.log('done');
}
