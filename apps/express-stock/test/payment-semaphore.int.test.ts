import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AppProcess, startAppProcess } from '../src/demo/app-process.js';
import { runPaymentRound } from '../src/demo/payment-round.js';
import { readProviderConcurrency, resetProviderConcurrency } from '../src/payments/payment-provider.js';
import { PAYMENT_PERMITS } from '../src/payments/payment-service.js';
import { connectRedis } from '../src/server/store-connections.js';
import { connectTestDataSource, dropTables, testConfig } from './support/test-stores.js';

// Two app servers in two OS processes call one (simulated) payment provider. The provider counts the
// calls in flight in Redis, shared by both, so the maximum is the truth across processes.
const config = testConfig();
const PROVIDER = `t-${randomBytes(4).toString('hex')}`;
const REQUESTS = 24;
let servers: AppProcess[] = [];
let redis: Redis;

beforeAll(async () => {
  const env = {
    TABLE_PREFIX: config.tablePrefix,
    PAYMENT_PROVIDER: PROVIDER,
    PAYMENT_PROVIDER_MS: '100',
    PAYMENT_WAIT_MS: '30000',
  };
  servers = await Promise.all([startAppProcess(env), startAppProcess(env)]);
  redis = await connectRedis(config.redisUrl);
}, 60_000);

afterAll(async () => {
  await Promise.all(servers.map((server) => server.stop('SIGTERM')));
  if (redis) {
    await resetProviderConcurrency(redis, PROVIDER);
    await redis.quit();
  }
  const dataSource = await connectTestDataSource(config);
  await dropTables(dataSource, config.tablePrefix);
  await dataSource.destroy();
});

describe('@DistributedSemaphore: at most 3 payment authorisations at once across two servers', () => {
  it('the provider never sees more than 3 at once, and every request is authorised', async () => {
    const result = await runPaymentRound({
      guard: 'semaphore',
      serverUrls: servers.map((server) => server.url),
      redis,
      provider: PROVIDER,
      requests: REQUESTS,
    });
    expect(result.succeeded).toBe(REQUESTS);
    expect(result.maxConcurrent).toBeLessThanOrEqual(PAYMENT_PERMITS);
    // More than one at a time: a semaphore, not a lock in disguise.
    expect(result.maxConcurrent).toBeGreaterThanOrEqual(2);
    expect((await readProviderConcurrency(redis, PROVIDER)).inFlight).toBe(0);
  });

  it('without the semaphore the same requests overlap far beyond 3 (the counter does see overlaps)', async () => {
    const result = await runPaymentRound({
      guard: 'unguarded',
      serverUrls: servers.map((server) => server.url),
      redis,
      provider: PROVIDER,
      requests: 12,
    });
    expect(result.succeeded).toBe(12);
    expect(result.maxConcurrent).toBeGreaterThan(PAYMENT_PERMITS);
  });

  it('a body without orderId is a 400 naming it, and takes no permit', async () => {
    const response = await fetch(`${servers[0]!.url}/payments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ amountCents: 100 }),
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { field: string } }).error.field).toBe('orderId');
  });
});
