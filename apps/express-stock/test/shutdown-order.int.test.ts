import { setTimeout as sleep } from 'node:timers/promises';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AppProcess, startAppProcess } from '../src/demo/app-process.js';
import { Order } from '../src/orders/order-entity.js';
import { Stock } from '../src/stock/stock-entity.js';
import { connectTestDataSource, dropTables, testConfig } from './support/test-stores.js';

// A request that outlives the grace period: each critical section works 2.5 s, the grace is 0.5 s.
const WORK_MS = 2_500;
const config = testConfig();
let dataSource: DataSource;
let servers: AppProcess[] = [];

beforeAll(async () => {
  const env = {
    TABLE_PREFIX: config.tablePrefix,
    STOCK_WORK_MS: String(WORK_MS),
    STOCK_LOCK_WAIT_MS: '30000',
    SHUTDOWN_GRACE_MS: '500',
    LOG_LEVEL: 'debug',
  };
  servers = await Promise.all([startAppProcess(env), startAppProcess(env)]);
  dataSource = await connectTestDataSource(config);
}, 60_000);

afterAll(async () => {
  await Promise.all(servers.map((server) => server.stop('SIGTERM')));
  if (dataSource) {
    await dropTables(dataSource, config.tablePrefix);
    await dataSource.destroy();
  }
});

async function post(server: AppProcess, path: string, body: unknown) {
  const response = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

function logLine(key: string, message: string): RegExp {
  return new RegExp(`"key":"${key}"[^\\n]*"msg":"${message}"`);
}

describe('SIGTERM while a transaction runs under a lock past the grace period', () => {
  it('rolls that transaction back before releasing its lock: the next server reads and writes alone', async () => {
    const [serverA, serverB] = servers as [AppProcess, AppProcess];
    const productId = 'shutdown-rollback';
    await dataSource.getRepository(Stock).save({ productId, quantity: 10 });

    // A holds order:u-a and stock:<product>, has read 10 and is "working" for 2.5 s.
    const offsetA = serverA.output().length;
    const order = post(serverA, '/orders', { userId: 'u-a', productId, quantity: 1 });
    await serverA.waitForOutput(logLine(`stock:${productId}`, 'lock acquired'), { fromOffset: offsetA });
    // B waits for the same stock lock.
    const offsetB = serverB.output().length;
    const decrease = post(serverB, `/stocks/${productId}/decrease`, { quantity: 2 });
    await serverB.waitForOutput(logLine(`stock:${productId}`, 'lock contended'), { fromOffset: offsetB });

    const exit = serverA.stop('SIGTERM');
    const [orderResponse, decreaseResponse] = await Promise.all([order, decrease]);

    // A stopped before COMMIT and says so: nothing written, safe to retry.
    expect(orderResponse.status).toBe(503);
    expect(orderResponse.body.error).toMatchObject({ code: 'SHUTTING_DOWN' });
    // B entered after A's rollback, so it read the untouched 10.
    expect(decreaseResponse).toEqual({
      status: 200,
      body: { productId, previousQuantity: 10, quantity: 8 },
    });
    expect(await exit).toEqual({ code: 0, signal: null });

    // Had A kept running, its COMMIT would have landed WORK_MS after it entered: wait past that.
    await sleep(WORK_MS);
    expect(await dataSource.getRepository(Order).countBy({ userId: 'u-a' })).toBe(0);
    expect((await dataSource.getRepository(Stock).findOneByOrFail({ productId })).quantity).toBe(8);
  });
});
