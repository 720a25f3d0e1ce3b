import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AppProcess, startAppProcess } from '../src/demo/app-process.js';
import { Order } from '../src/orders/order-entity.js';
import { RaceStock } from '../src/race/race-stock-entity.js';
import type { RaceStrategy } from '../src/race/race-strategies.js';
import { Stock } from '../src/stock/stock-entity.js';
import {
  connectTestDataSource,
  createOtherServerManager,
  dropTables,
  testConfig,
} from './support/test-stores.js';

// Two app servers in two OS processes, sharing Redis and MySQL, like two instances behind a load balancer.
const config = testConfig();
const REQUESTS = 40;
let dataSource: DataSource;
let servers: AppProcess[] = [];
let other: Awaited<ReturnType<typeof createOtherServerManager>>;

beforeAll(async () => {
  const env = {
    TABLE_PREFIX: config.tablePrefix,
    STOCK_WORK_MS: '3',
    STOCK_LOCK_WAIT_MS: '30000',
    SHUTDOWN_GRACE_MS: '1500',
    LOG_LEVEL: 'debug',
  };
  // Both start at once: one runs the migrations (under the schema lock), the other finds them done.
  servers = await Promise.all([startAppProcess(env), startAppProcess(env)]);
  dataSource = await connectTestDataSource(config);
  other = await createOtherServerManager(config);
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

async function put(server: AppProcess, path: string, body: unknown): Promise<number> {
  const response = await fetch(`${server.url}${path}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  await response.arrayBuffer();
  return response.status;
}

/**
 * Seed REQUESTS items of a demo product, then fire REQUESTS concurrent "decrease by 1" through the
 * demo's race endpoint, alternating the two servers.
 */
async function race(strategy: RaceStrategy, productId = `race-${strategy}`) {
  const path = `/race/${strategy}/stocks/${productId}`;
  expect(await put(servers[0]!, path, { quantity: REQUESTS })).toBe(200);
  const responses = await Promise.all(
    Array.from({ length: REQUESTS }, (_, index) =>
      post(servers[index % 2]!, `${path}/decrease`, { quantity: 1 }),
    ),
  );
  const final = (await dataSource.getRepository(RaceStock).findOneByOrFail({ strategy, productId })).quantity;
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
    const path = '/race/local/stocks/race-local-one-server';
    expect(await put(servers[0]!, path, { quantity: REQUESTS })).toBe(200);
    const responses = await Promise.all(
      Array.from({ length: REQUESTS }, () => post(servers[0]!, `${path}/decrease`, { quantity: 1 })),
    );
    expect(responses.map((response) => response.status)).toEqual(Array(REQUESTS).fill(200));
    const row = await dataSource
      .getRepository(RaceStock)
      .findOneByOrFail({ strategy: 'local', productId: 'race-local-one-server' });
    expect(row.quantity).toBe(0);
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

describe('one store per key', () => {
  it('the production routes have no strategy switch: ?strategy= is a 400 naming the field', async () => {
    await dataSource.getRepository(Stock).save({ productId: 'no-switch', quantity: 5 });
    for (const strategy of ['mysql', 'spin', 'pubsub', 'none']) {
      const response = await post(servers[0]!, `/stocks/no-switch/decrease?strategy=${strategy}`, {
        quantity: 1,
      });
      expect(response.status).toBe(400);
      expect(response.body.error).toMatchObject({ code: 'INVALID_INPUT', field: 'strategy' });
    }
    expect((await dataSource.getRepository(Stock).findOneByOrFail({ productId: 'no-switch' })).quantity).toBe(
      5,
    );
  });

  it('decreases and orders from both servers, mixed on one product, exclude each other', async () => {
    const productId = 'mixed-routes';
    await dataSource.getRepository(Stock).save({ productId, quantity: REQUESTS });
    const responses = await Promise.all(
      Array.from({ length: REQUESTS }, (_, index) => {
        const server = servers[index % 2]!;
        return index % 4 < 2
          ? post(server, `/stocks/${productId}/decrease`, { quantity: 1 })
          : post(server, '/orders', { userId: `u-mixed-${index}`, productId, quantity: 1 });
      }),
    );
    expect(responses.map((response) => response.status).sort()).toEqual([
      ...Array(REQUESTS / 2).fill(200),
      ...Array(REQUESTS / 2).fill(201),
    ]);
    const reads = responses
      .map((response) =>
        response.status === 200
          ? (response.body.previousQuantity as number)
          : (response.body.stock as { quantity: number }).quantity + 1,
      )
      .sort((a, b) => b - a);
    // Every request, whichever route and server, read the previous one's commit: no two overlapped.
    expect(reads).toEqual(Array.from({ length: REQUESTS }, (_, index) => REQUESTS - index));
    expect((await dataSource.getRepository(Stock).findOneByOrFail({ productId })).quantity).toBe(0);
    expect(await dataSource.getRepository(Order).countBy({ productId })).toBe(REQUESTS / 2);
  });

  it("the demo's race rows are not the app's stock: racing one never touches the other", async () => {
    const productId = 'shared-name';
    await dataSource.getRepository(Stock).save({ productId, quantity: 7 });
    const { final } = await race('mysql', productId);
    expect(final).toBe(0);
    expect((await dataSource.getRepository(Stock).findOneByOrFail({ productId })).quantity).toBe(7);
  });
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
