import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AppProcess, startAppProcess } from '../src/demo/app-process.js';
import { Order } from '../src/orders/order-entity.js';
import { connectAppDataSource } from '../src/server/store-connections.js';
import { Stock } from '../src/stock/stock-entity.js';
import type { RaceStrategy } from '../src/stock/stock-race-strategies.js';
import { createOtherServerManager, dropTables, testConfig } from './support/test-stores.js';

// Two app servers in two OS processes, sharing Redis and MySQL, like two instances behind a load balancer.
const config = testConfig();
const REQUESTS = 40;
let dataSource: DataSource;
let servers: AppProcess[] = [];
let other: Awaited<ReturnType<typeof createOtherServerManager>>;

beforeAll(async () => {
  // Create the tables once here, so the two servers do not race on DDL at startup.
  dataSource = await connectAppDataSource({ ...config, synchronizeSchema: true, appPoolSize: 2 });
  other = await createOtherServerManager(config);
  const env = {
    TABLE_PREFIX: config.tablePrefix,
    DB_SYNCHRONIZE: 'false',
    STOCK_WORK_MS: '3',
    STOCK_LOCK_WAIT_MS: '30000',
    SHUTDOWN_GRACE_MS: '1500',
    LOG_LEVEL: 'debug',
  };
  servers = await Promise.all([startAppProcess(env), startAppProcess(env)]);
}, 60_000);

afterAll(async () => {
  await Promise.all(servers.map((server) => server.stop('SIGTERM')));
  await other?.close();
  if (dataSource) {
    await dropTables(dataSource, config.tablePrefix);
    await dataSource.destroy();
  }
});

async function post(
  server: AppProcess,
  path: string,
  body: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** Seed REQUESTS items, then fire REQUESTS concurrent "decrease by 1", alternating the two servers. */
async function race(strategy: RaceStrategy) {
  const productId = `race-${strategy}`;
  await dataSource.getRepository(Stock).save({ productId, quantity: REQUESTS });
  const responses = await Promise.all(
    Array.from({ length: REQUESTS }, (_, index) =>
      post(servers[index % 2]!, `/stocks/${productId}/decrease?strategy=${strategy}`, { quantity: 1 }),
    ),
  );
  const final = (await dataSource.getRepository(Stock).findOneByOrFail({ productId })).quantity;
  const reads = responses.map((response) => response.body.previousQuantity as number).sort((a, b) => b - a);
  return { statuses: responses.map((response) => response.status), final, reads };
}

describe('two servers race for one product', () => {
  it('without a lock, updates are lost (the race this app exists to show is real)', async () => {
    const { statuses, final } = await race('none');
    expect(statuses.every((status) => status === 200)).toBe(true);
    // Every request "succeeded", yet the stock did not drop by REQUESTS.
    expect(final).toBeGreaterThan(0);
  });

  it('an in-process mutex is exact within one server...', async () => {
    const productId = 'race-local-one-server';
    await dataSource.getRepository(Stock).save({ productId, quantity: REQUESTS });
    const responses = await Promise.all(
      Array.from({ length: REQUESTS }, () =>
        post(servers[0]!, `/stocks/${productId}/decrease?strategy=local`, { quantity: 1 }),
      ),
    );
    expect(responses.map((response) => response.status)).toEqual(Array(REQUESTS).fill(200));
    expect((await dataSource.getRepository(Stock).findOneByOrFail({ productId })).quantity).toBe(0);
  });

  it('...but loses updates across two servers', async () => {
    const { statuses, final } = await race('local');
    expect(statuses.every((status) => status === 200)).toBe(true);
    expect(final).toBeGreaterThan(0);
  });

  it.each(['pubsub', 'spin', 'mysql'] as const)(
    'with dlock on %s, the final stock is exact',
    async (strategy) => {
      const { statuses, final, reads } = await race(strategy);
      expect(statuses).toEqual(Array(REQUESTS).fill(200));
      expect(final).toBe(0);
      // Each request read the previous one's committed write: REQUESTS, REQUESTS-1, ..., 1.
      expect(reads).toEqual(Array.from({ length: REQUESTS }, (_, index) => REQUESTS - index));
    },
  );
});

describe('graceful shutdown (SIGTERM)', () => {
  /** Wait until `server` holds the order lock and waits for `stockKey` (its debug log says "lock contended"). */
  async function waitUntilWaitingFor(
    server: AppProcess,
    stockKey: string,
    fromOffset: number,
  ): Promise<void> {
    await server.waitForOutput(new RegExp(`"key":"${stockKey}"[^\\n]*"msg":"lock contended"`), {
      fromOffset,
    });
  }

  it('lets an in-flight request finish within the grace period, then exits 0 with its locks released', async () => {
    const server = servers[1]!;
    const productId = 'shutdown-finish';
    await dataSource.getRepository(Stock).save({ productId, quantity: 5 });
    // Hold the stock lock here so the order request stays in flight, holding order:<user>.
    const stockLock = await other.manager.acquire(`stock:${productId}`, { backend: 'pubsub' });
    const offset = server.output().length;
    const order = post(server, '/orders', { userId: 'u-finish', productId, quantity: 1 });
    await waitUntilWaitingFor(server, `stock:${productId}`, offset);

    const exit = server.stop('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 300));
    await stockLock.release(); // within SHUTDOWN_GRACE_MS: the request completes normally
    expect((await order).status).toBe(201);
    expect(await exit).toEqual({ code: 0, signal: null });
    expect(await dataSource.getRepository(Order).countBy({ userId: 'u-finish' })).toBe(1);
    const free = await other.manager.acquire('order:u-finish', { backend: 'spin' });
    await free.release();
  });

  it('releases the lock of a request still running when the grace period ends, instead of leaving it to expire', async () => {
    const server = servers[0]!;
    const productId = 'shutdown-abort';
    await dataSource.getRepository(Stock).save({ productId, quantity: 5 });
    const stockLock = await other.manager.acquire(`stock:${productId}`, { backend: 'pubsub' });
    try {
      const offset = server.output().length;
      const order = post(server, '/orders', { userId: 'u-abort', productId, quantity: 1 });
      await waitUntilWaitingFor(server, `stock:${productId}`, offset);

      const startedAt = Date.now();
      expect(await server.stop('SIGTERM')).toEqual({ code: 0, signal: null });
      const response = await order;
      expect(response.status).toBe(503);
      expect((response.body.error as { code: string }).code).toBe('SHUTTING_DOWN');
      // Released by manager.close(), not by the 30 s lease: free right after the exit.
      const free = await other.manager.acquire('order:u-abort', { backend: 'spin' });
      await free.release();
      expect(Date.now() - startedAt).toBeLessThan(15_000);
      expect(await dataSource.getRepository(Order).countBy({ userId: 'u-abort' })).toBe(0);
    } finally {
      await stockLock.release();
    }
  });
});
