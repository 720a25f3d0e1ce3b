import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { clientFactory, readFileCounter, runWorkers, startWorker } from '@dlock/conformance';
import { REDIS_URL } from '@dlock/conformance/redis';
import type { BackendAcquireRequest } from '@dlock/core';
import { redisLockKeys } from '@dlock/redis-common';
import { describe, expect, it } from 'vitest';
import { RedisSpinLockBackend } from '../src/index.js';

const newClient = clientFactory();
const workers = join(import.meta.dirname, 'workers');

describe('RedisSpinLockBackend across OS processes', () => {
  it('4 processes x 25 increments of a non-atomic file counter end exact', async () => {
    const counterFile = join(mkdtempSync(join(tmpdir(), 'dlock-spin-')), 'counter');
    writeFileSync(counterFile, '0');
    const results = await runWorkers(4, {
      script: join(workers, 'counter-worker.ts'),
      env: {
        REDIS_URL,
        LOCK_KEY: `test:spin-processes:${randomUUID()}`,
        COUNTER_FILE: counterFile,
        ITERATIONS: '25',
      },
    });
    for (const result of results) expect(result.code, result.stderr).toBe(0);
    expect(await readFileCounter(counterFile)).toBe(100);
  });

  it('processes whose callers all keep waiting for one key take turns: no process keeps it for long', async () => {
    // 3 processes x 6 callers loop acquire -> 2 ms -> release on one key for 3 s. Without turns
    // the process that has the key re-takes it from its own releases (its next caller tries at
    // once, the others sleep in backoff) for most of the run. With the default 100 ms turns, one
    // process keeps it for a few dozen acquisitions. The bound is far from both, and counted in
    // acquisitions, not time: a slow machine makes runs shorter, not longer.
    const processes = 3;
    const results = await runWorkers(processes, {
      script: join(workers, 'turns-worker.ts'),
      env: {
        REDIS_URL,
        LOCK_KEY: `test:spin-turns:${randomUUID()}`,
        START_AT: String(Date.now() + 4_000), // after every worker has started (tsx takes a while)
        RUN_MS: '3000',
        HOLD_MS: '2',
        CALLERS: '6',
      },
    });
    const acquisitions = results.flatMap((result, worker) => {
      expect(result.code, result.stderr).toBe(0);
      const fences = JSON.parse(/^fences (.*)$/m.exec(result.stdout)![1]!) as number[];
      return fences.map((fence) => ({ fence, worker }));
    });
    acquisitions.sort((a, b) => a.fence - b.fence);
    const perWorker = Array.from(
      { length: processes },
      (_, worker) => acquisitions.filter((acquisition) => acquisition.worker === worker).length,
    );
    for (const count of perWorker) expect(count, `acquisitions per process: ${perWorker}`).toBeGreaterThan(0);
    expect(
      longestRun(acquisitions.map((acquisition) => acquisition.worker)),
      `per process: ${perWorker}`,
    ).toBeLessThan(acquisitions.length / 3);
  }, 60_000);

  it('a holder killed with SIGKILL frees the lock when its lease ends: not before, and not never', async () => {
    const key = `test:spin-sigkill:${randomUUID()}`;
    const leaseMs = 1_500;
    const holder = startWorker({
      script: join(workers, 'holder-worker.ts'),
      env: { REDIS_URL, LOCK_KEY: key, LEASE_MS: String(leaseMs) },
    });
    await holder.waitForLine('holding');
    // Let one renewal happen, so the lease the waiter must sit out is the renewed one.
    await sleep(700);
    holder.kill('SIGKILL');
    await holder.exited;
    const client = newClient();
    const remaining = await client.pttl(redisLockKeys('dlock:', key).lock);
    expect(remaining).toBeGreaterThan(0);
    const killedAt = Date.now();
    const backend = new RedisSpinLockBackend(client, { minDelayMs: 5, maxDelayMs: 50 });
    const request: BackendAcquireRequest = {
      key,
      token: randomUUID(),
      leaseMs: 5_000,
      waitMs: 10_000,
      signal: new AbortController().signal,
    };
    const lock = await backend.acquire(request);
    const waited = Date.now() - killedAt;
    expect(lock).not.toBeNull();
    expect(waited).toBeGreaterThanOrEqual(remaining - 50);
    expect(waited).toBeLessThan(remaining + 2_000);
    await lock!.release();
  });
});

/** The longest stretch of equal neighbours in `items`. */
function longestRun(items: readonly number[]): number {
  let longest = 0;
  let run = 0;
  for (let i = 0; i < items.length; i++) {
    run = i > 0 && items[i] === items[i - 1] ? run + 1 : 1;
    longest = Math.max(longest, run);
  }
  return longest;
}
