import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { LockManager } from '@dlock/core';
import { RedisSpinLockBackend } from '@dlock/redis-spin';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppModule } from '../src/app-module.js';
import { DigestJob } from '../src/jobs/digest-job.js';

const keyPrefix = `test:nest-jobs:${randomUUID().slice(0, 8)}:`;
let app: INestApplication;
let base: string;

beforeAll(async () => {
  process.env.LOCK_KEY_PREFIX = keyPrefix;
  const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
  app = moduleRef.createNestApplication({ logger: ['error'] });
  await app.listen(0, '127.0.0.1');
  base = (await app.getUrl()).replace('[::1]', '127.0.0.1');
});

afterAll(async () => {
  await app?.close();
});

describe('nest-jobs sample', () => {
  it('a second recount of the same SKU while one runs gets 409; another SKU is not blocked', async () => {
    const recount = (sku: string) => fetch(`${base}/inventory/${sku}/recount`, { method: 'POST' });
    const first = recount('sku-1');
    await new Promise((resolve) => setTimeout(resolve, 150));
    const [second, other] = await Promise.all([recount('sku-1'), recount('sku-2')]);
    expect(second.status).toBe(409);
    expect(await second.json()).toMatchObject({ code: 'LOCK_NOT_ACQUIRED' });
    expect(other.status).toBe(201);
    const firstResponse = await first;
    expect(firstResponse.status).toBe(201);
    expect(await firstResponse.json()).toMatchObject({ sku: 'sku-1' });
  });

  it('the digest job skips while another replica holds its lock', async () => {
    const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
    const otherReplica = new LockManager({ backends: { spin: new RedisSpinLockBackend(redis) }, keyPrefix });
    try {
      const manager = app.get(LockManager);
      const skipped: string[] = [];
      manager.on('skipped', ({ key }) => skipped.push(key));
      // The app's own cron holds the key 4 s of every 5: wait for it like a replica would.
      const taken = await otherReplica.acquire('job:digest', { leaseMs: 10_000, retry: { waitMs: 10_000 } });
      await expect(app.get(DigestJob).buildDigest()).resolves.toBeUndefined();
      // The real cron may fire meanwhile and skip too; every skip is the digest's.
      expect(skipped.length).toBeGreaterThanOrEqual(1);
      expect(new Set(skipped)).toEqual(new Set(['job:digest']));
      await taken.release();
    } finally {
      await otherReplica.close();
      redis.disconnect();
    }
  });
});
