import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { clientFactory, readFileCounter, startWorker } from '@dlock/conformance';
import { REDIS_URL } from '@dlock/conformance/redis';
import { redisLockKeys } from '@dlock/redis-common';
import { describe, expect, it } from 'vitest';
import { RedisPubSubLockBackend } from '../src/index.js';

const newClient = clientFactory();
const workers = join(import.meta.dirname, 'workers');

async function countWith(kinds: readonly ('spin' | 'pubsub')[], iterations: number): Promise<number> {
  const counterFile = join(mkdtempSync(join(tmpdir(), 'dlock-pubsub-')), 'counter');
  writeFileSync(counterFile, '0');
  const key = `test:pubsub-processes:${randomUUID()}`;
  const running = kinds.map((kind) =>
    startWorker({
      script: join(workers, 'counter-worker.ts'),
      env: {
        REDIS_URL,
        BACKEND: kind,
        LOCK_KEY: key,
        COUNTER_FILE: counterFile,
        ITERATIONS: String(iterations),
      },
    }),
  );
  for (const result of await Promise.all(running.map((worker) => worker.exited))) {
    expect(result.code, result.stderr).toBe(0);
  }
  return readFileCounter(counterFile);
}

describe('RedisPubSubLockBackend across OS processes', () => {
  it('4 pub/sub processes x 25 increments of a non-atomic file counter end exact', async () => {
    expect(await countWith(['pubsub', 'pubsub', 'pubsub', 'pubsub'], 25)).toBe(100);
  });

  it('mixed: 2 spin + 2 pub/sub processes on the same key end exact', async () => {
    expect(await countWith(['spin', 'pubsub', 'spin', 'pubsub'], 25)).toBe(100);
  });

  it('a holder killed with SIGKILL: the pub/sub waiter gets the lock when the lease ends, not before, not never', async () => {
    const key = `test:pubsub-sigkill:${randomUUID()}`;
    const holder = startWorker({
      script: join(workers, 'holder-worker.ts'),
      env: { REDIS_URL, LOCK_KEY: key, LEASE_MS: '1500' },
    });
    await holder.waitForLine('holding');
    await sleep(700);
    holder.kill('SIGKILL');
    await holder.exited;
    const client = newClient();
    const remaining = await client.pttl(redisLockKeys('dlock:', key).lock);
    expect(remaining).toBeGreaterThan(0);
    const killedAt = Date.now();
    const backend = new RedisPubSubLockBackend(client);
    const lock = await backend.acquire({
      key,
      token: randomUUID(),
      leaseMs: 5_000,
      waitMs: 10_000,
      signal: new AbortController().signal,
    });
    const waited = Date.now() - killedAt;
    expect(lock).not.toBeNull();
    // Nobody published (the holder died): the waiter's fallback timer at the holder's PTTL woke it.
    expect(waited).toBeGreaterThanOrEqual(remaining - 50);
    expect(waited).toBeLessThan(remaining + 1_000);
    await lock!.release();
    await backend.close();
  });
});
