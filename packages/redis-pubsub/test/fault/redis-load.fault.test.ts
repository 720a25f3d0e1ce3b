import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startWorker } from '@dlock/conformance';
import { PrivateRedisServer } from '@dlock/testing/servers';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// A private server, so other test files' traffic cannot pollute INFO commandstats.
let server: PrivateRedisServer;
let admin: Redis;
beforeAll(async () => {
  server = await PrivateRedisServer.start();
  admin = new Redis(server.port, '127.0.0.1');
});
afterAll(async () => {
  admin.disconnect();
  await server.stop();
});

/** Commands our backends send: script calls and (un)subscriptions (not the commands scripts run inside). */
const LOCK_COMMANDS = ['evalsha', 'eval', 'subscribe', 'unsubscribe'];

async function lockCommandCount(): Promise<number> {
  const info = await admin.info('commandstats');
  let total = 0;
  for (const [, name, calls] of info.matchAll(/^cmdstat_([a-z|]+):calls=(\d+)/gm)) {
    if (LOCK_COMMANDS.includes(name!)) total += Number(calls);
  }
  return total;
}

interface LoadRun {
  readonly backend: 'spin' | 'pubsub';
  readonly perProcess: number;
  readonly iterationsPerProcess: number;
  readonly holdMs: number;
  readonly acquisitionLog?: string;
}

/** 4 OS processes x `perProcess` waiters on one key. */
async function runLoad(run: LoadRun): Promise<void> {
  const key = `load:${run.backend}:${randomUUID()}`;
  const workers = Array.from({ length: 4 }, (_, index) =>
    startWorker({
      script: join(import.meta.dirname, '..', 'workers', 'load-worker.ts'),
      env: {
        REDIS_URL: server.url,
        BACKEND: run.backend,
        LOCK_KEY: key,
        ITERATIONS: String(run.iterationsPerProcess),
        CONCURRENCY: String(run.perProcess),
        HOLD_MS: String(run.holdMs),
        WORKER_INDEX: String(index),
        ...(run.acquisitionLog ? { ACQUISITION_LOG: run.acquisitionLog } : {}),
      },
    }),
  );
  for (const result of await Promise.all(workers.map((worker) => worker.exited))) {
    expect(result.code, result.stderr).toBe(0);
  }
}

/** Lock commands per acquisition for 4 processes x `perProcess` waiters holding 100 ms. */
async function commandsPerAcquisition(backend: 'spin' | 'pubsub', perProcess: number): Promise<number> {
  const iterationsPerProcess = 6;
  await admin.config('RESETSTAT');
  await runLoad({ backend, perProcess, iterationsPerProcess, holdMs: 100 });
  return (await lockCommandCount()) / (4 * iterationsPerProcess);
}

describe.sequential('Redis load under contention (INFO commandstats on a private server)', () => {
  const measured: Record<string, number> = {};

  it('pub/sub: a small constant number of commands per acquisition with 16 and with 48 waiters', async () => {
    measured.pubsub16 = await commandsPerAcquisition('pubsub', 4);
    measured.pubsub48 = await commandsPerAcquisition('pubsub', 12);
    console.log(`lock commands per acquisition: ${JSON.stringify(measured)}`);
    // Queue + claim + release = 3, plus each process's first SUBSCRIBE and re-check.
    expect(measured.pubsub16).toBeLessThanOrEqual(4.5);
    expect(measured.pubsub48).toBeLessThanOrEqual(4.5);
  });

  it('pub/sub hands the lock from process to process in queue order: the releasing process rarely gets it back', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dlock-fairness-'));
    const acquisitionLog = join(dir, 'order.log');
    try {
      const iterationsPerProcess = 15;
      // A release finding nobody queued deletes the lock and the next caller of any process takes it:
      // that is a repeat too, and it happens when the other processes' next callers reach Redis only
      // after the hold ended (a loaded CI machine lags by tens of ms). A hold longer than that lag
      // keeps this test about the queue, not about the scheduler.
      await runLoad({ backend: 'pubsub', perProcess: 4, iterationsPerProcess, holdMs: 40, acquisitionLog });
      const order = (await readFile(acquisitionLog, 'utf8')).trim().split('\n');
      expect(order).toHaveLength(4 * iterationsPerProcess);
      // Count a repeat only while another process still had acquisitions to make.
      const left = new Map(['0', '1', '2', '3'].map((worker) => [worker, iterationsPerProcess]));
      let repeats = 0;
      let contested = 0;
      order.forEach((worker, i) => {
        const othersLeft = [...left].some(([other, count]) => other !== worker && count > 0);
        if (i > 0 && othersLeft) {
          contested++;
          if (order[i - 1] === worker) repeats++;
        }
        left.set(worker, left.get(worker)! - 1);
      });
      console.log(`pub/sub repeat share: ${repeats}/${contested}`);
      // A barging lock repeats 57-99 % of the time here (see docs/benchmarks); FIFO handoff almost never.
      expect(repeats / contested).toBeLessThanOrEqual(1 / 3);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('spin: many more commands per acquisition than pub/sub for the same load', async () => {
    measured.spin16 = await commandsPerAcquisition('spin', 4);
    console.log(`lock commands per acquisition: ${JSON.stringify(measured)}`);
    // Every waiting process polls all through each 100 ms hold; pub/sub waiters sleep through it.
    expect(measured.spin16).toBeGreaterThanOrEqual(3 * measured.pubsub16!);
  });
});
