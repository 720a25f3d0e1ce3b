import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { clientFactory, startWorker, type WorkerResult } from '@dlock/conformance';
import { REDIS_URL } from '@dlock/conformance/redis';
import { LockManager } from '@dlock/core';
import { describe, expect, it } from 'vitest';
import { RedisPubSubLockBackend } from '../src/index.js';

const newClient = clientFactory();
const workerScript = join(import.meta.dirname, 'workers', 'shared-locks-worker.ts');

function expectClean(results: readonly WorkerResult[]): void {
  for (const result of results) expect(result.code, result.stderr).toBe(0);
}

async function observed(observe: string) {
  const client = newClient();
  const [inside, writers, violations, done] = await client.mget(
    `${observe}:inside:peak`,
    `${observe}:writers:peak`,
    `${observe}:violations`,
    `${observe}:done`,
  );
  return {
    peakInside: Number(inside ?? 0),
    peakWriters: Number(writers ?? 0),
    violations: Number(violations ?? 0),
    done: Number(done ?? 0),
  };
}

function workers(count: number, env: Record<string, string>) {
  return Array.from({ length: count }, () =>
    startWorker({ script: workerScript, env: { REDIS_URL, ...env }, timeoutMs: 90_000 }),
  );
}

describe('semaphores and read-write locks across 4 OS processes (redis-pubsub)', () => {
  it('semaphore: the highest concurrency observed across 4 processes equals permits exactly (decorator, withSemaphore and acquireSemaphore mixed)', async () => {
    const id = randomUUID();
    const observe = `test:shared-processes:observe:${id}`;
    const running = workers(4, {
      MODE: 'semaphore',
      LOCK_KEY: `test:shared-processes:semaphore:${id}`,
      OBSERVE_PREFIX: observe,
      PERMITS: '3',
      ITERATIONS: '12',
      SECTION_MS: '40',
    });
    expectClean(await Promise.all(running.map((worker) => worker.exited)));
    const seen = await observed(observe);
    expect(seen.done).toBe(48);
    expect(seen.peakInside).toBe(3);
  });

  it('read-write: readers overlap, writers (mode write, plain locks) never overlap anything', async () => {
    const id = randomUUID();
    const observe = `test:shared-processes:observe:${id}`;
    const running = workers(4, {
      MODE: 'rw',
      LOCK_KEY: `test:shared-processes:rw:${id}`,
      OBSERVE_PREFIX: observe,
      ITERATIONS: '18',
      SECTION_MS: '30',
    });
    expectClean(await Promise.all(running.map((worker) => worker.exited)));
    const seen = await observed(observe);
    expect(seen.done).toBe(72);
    expect(seen.violations).toBe(0);
    expect(seen.peakWriters).toBe(1);
    expect(seen.peakInside).toBeGreaterThan(1);
  });

  it('a steady stream of readers from 4 processes does not delay a queued writer beyond the readers already inside', async () => {
    const id = randomUUID();
    const key = `test:shared-processes:stream:${id}`;
    const observe = `test:shared-processes:observe:${id}`;
    const running = workers(4, {
      MODE: 'readers',
      LOCK_KEY: key,
      OBSERVE_PREFIX: observe,
      DURATION_MS: '5000',
    });
    const manager = new LockManager({ backends: { pubsub: new RedisPubSubLockBackend(newClient()) } });
    try {
      // Let the stream get going: readers are inside all the time from now on.
      await sleep(1_500);
      const waits: number[] = [];
      for (let i = 0; i < 3; i++) {
        const startedAt = Date.now();
        await manager.withLock(key, { retry: { waitMs: 10_000 } }, () => sleep(10));
        waits.push(Date.now() - startedAt);
        await sleep(200);
      }
      // Fair share: the readers inside when it queued (each holds 60 ms), plus the round trips on
      // two shared cores. Without writer preference it would wait for the stream to end (seconds).
      for (const wait of waits) expect(wait).toBeLessThan(1_000);
    } finally {
      await manager.close();
    }
    expectClean(await Promise.all(running.map((worker) => worker.exited)));
    expect((await observed(observe)).violations).toBe(0);
  });

  it('a permit holder killed with SIGKILL: its permit comes back when its lease ends, not before', async () => {
    const id = randomUUID();
    const key = `test:shared-processes:sigkill:${id}`;
    const [holder] = workers(1, {
      MODE: 'hold',
      LOCK_KEY: key,
      OBSERVE_PREFIX: 'unused',
      PERMITS: '2',
      LEASE_MS: '1500',
    });
    await holder!.waitForLine('holding');
    const manager = new LockManager({ backends: { pubsub: new RedisPubSubLockBackend(newClient()) } });
    try {
      // One permit left: taken at once; the second needs the killed holder's.
      const first = await manager.acquireSemaphore(key, { permits: 2 });
      await sleep(500);
      holder!.kill('SIGKILL');
      await holder!.exited;
      const killedAt = Date.now();
      const second = await manager.acquireSemaphore(key, { permits: 2, retry: { waitMs: 10_000 } });
      const waited = Date.now() - killedAt;
      // The lease (renewed every 500 ms) had at most 1500 ms left, at least ~1000 ms.
      expect(waited).toBeGreaterThanOrEqual(500);
      expect(waited).toBeLessThan(3_000);
      expect(second.fencingToken).toBeGreaterThan(first.fencingToken!);
      await second.release();
      await first.release();
    } finally {
      await manager.close();
    }
  });
});
