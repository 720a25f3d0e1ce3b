import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { startWorker } from '@dlock/conformance';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrivateRedisServer } from '../support/private-redis-server.js';

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

/** 4 OS processes x `perProcess` waiters on one key; returns lock commands per acquisition. */
async function commandsPerAcquisition(backend: 'spin' | 'pubsub', perProcess: number): Promise<number> {
  const iterationsPerProcess = 6;
  await admin.config('RESETSTAT');
  const key = `load:${backend}:${randomUUID()}`;
  const workers = Array.from({ length: 4 }, () =>
    startWorker({
      script: join(import.meta.dirname, '..', 'workers', 'load-worker.ts'),
      env: {
        REDIS_URL: server.url,
        BACKEND: backend,
        LOCK_KEY: key,
        ITERATIONS: String(iterationsPerProcess),
        CONCURRENCY: String(perProcess),
        HOLD_MS: '100',
      },
    }),
  );
  for (const result of await Promise.all(workers.map((worker) => worker.exited))) {
    expect(result.code, result.stderr).toBe(0);
  }
  return (await lockCommandCount()) / (4 * iterationsPerProcess);
}

describe.sequential('Redis load under contention (INFO commandstats on a private server)', () => {
  const measured: Record<string, number> = {};

  it('pub/sub: a small constant number of commands per acquisition with 16 and with 48 waiters', async () => {
    measured.pubsub16 = await commandsPerAcquisition('pubsub', 4);
    measured.pubsub48 = await commandsPerAcquisition('pubsub', 12);
    console.log(`lock commands per acquisition: ${JSON.stringify(measured)}`);
    // Acquire + release, plus at most one woken attempt per other process and subscription churn.
    expect(measured.pubsub16).toBeLessThanOrEqual(8);
    expect(measured.pubsub48).toBeLessThanOrEqual(8);
  });

  it('spin: many more commands per acquisition than pub/sub for the same load', async () => {
    measured.spin16 = await commandsPerAcquisition('spin', 4);
    console.log(`lock commands per acquisition: ${JSON.stringify(measured)}`);
    // Every waiting process polls all through each 100 ms hold; pub/sub waiters sleep through it.
    expect(measured.spin16).toBeGreaterThanOrEqual(3 * measured.pubsub16!);
  });
});
