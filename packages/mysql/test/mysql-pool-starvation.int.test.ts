import { setTimeout as sleep } from 'node:timers/promises';
import { LockCapacityError, LockLostError, LockManager } from '@dlock/core';
import type { DataSource } from 'typeorm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MySqlNamedLockBackend, type MySqlNamedLockBackendOptions } from '../src/index.js';
import { dataSources, uniqueSuffix } from './support/mysql-test-support.js';

const POOL_SIZE = 3;
const CONTENDERS = POOL_SIZE + 1;
const WAIT_MS = 4_000;
const suffix = uniqueSuffix();
const table = `dlock_orders_${suffix}`;
const sources = dataSources();
const open: { close(): Promise<void> }[] = [];
let app: DataSource;

beforeAll(async () => {
  app = await sources.open(POOL_SIZE);
  await app.query(`CREATE TABLE \`${table}\` (id INT AUTO_INCREMENT PRIMARY KEY, k VARCHAR(100) NOT NULL)`);
});
afterEach(async () => {
  await Promise.allSettled(open.splice(0).map((item) => item.close()));
});
afterAll(async () => {
  await app.query(`DROP TABLE IF EXISTS \`${table}\``);
  await sources.destroyAll();
});

function setup(locks: DataSource, options: MySqlNamedLockBackendOptions = {}) {
  const backend = new MySqlNamedLockBackend(locks, { keyPrefix: `pool-${suffix}:`, ...options });
  const manager = new LockManager({ backends: { mysql: backend } });
  open.push(manager, backend);
  return { backend, manager };
}

/** The work inside the lock: a transaction on the APP pool, holding its connection for a while. */
function placeOrder(key: string) {
  return app.transaction(async (entityManager) => {
    await entityManager.query(`INSERT INTO \`${table}\` (k) VALUES (?)`, [key]);
    await sleep(100);
  });
}

async function settleWithin(runs: Promise<unknown>[], ms: number) {
  const settled = Promise.allSettled(runs);
  return Promise.race([settled, sleep(ms).then(() => 'hung' as const)]);
}

describe(`pool of ${POOL_SIZE}, ${CONTENDERS} contenders, each running a transaction inside the lock`, () => {
  it('shared pool, distinct keys: the default maxConnections (pool - 1) leaves room, so every call completes', async () => {
    const { backend, manager } = setup(app);
    expect(backend.maxConnections).toBe(POOL_SIZE - 1);
    const keys = Array.from({ length: CONTENDERS }, (_, i) => `distinct:${i}`);
    const runs = keys.map((key) =>
      manager.withLock(key, { retry: { waitMs: WAIT_MS } }, () => placeOrder(key)),
    );
    const outcome = await settleWithin(runs, WAIT_MS + 2_000);
    expect(outcome).not.toBe('hung');
    expect((outcome as PromiseSettledResult<unknown>[]).map((result) => result.status)).toEqual(
      keys.map(() => 'fulfilled'),
    );
  });

  it('shared pool, one key across several managers (waiters also hold connections): every call completes', async () => {
    const backend = new MySqlNamedLockBackend(app, { keyPrefix: `pool-${suffix}:` });
    open.push(backend);
    const managers = Array.from({ length: CONTENDERS }, () => {
      const manager = new LockManager({ backends: { mysql: backend } });
      open.push(manager);
      return manager;
    });
    const runs = managers.map((manager) =>
      manager.withLock('same', { retry: { waitMs: WAIT_MS } }, () => placeOrder('same')),
    );
    const outcome = await settleWithin(runs, WAIT_MS + 2_000);
    expect(outcome).not.toBe('hung');
    expect(
      (outcome as PromiseSettledResult<unknown>[]).every((result) => result.status === 'fulfilled'),
    ).toBe(true);
  });

  it('control: letting locks take the WHOLE shared pool starves the transactions (this is the hang the defaults prevent)', async () => {
    const { backend, manager } = setup(app, { maxConnections: POOL_SIZE });
    const keys = Array.from({ length: CONTENDERS }, (_, i) => `naive:${i}`);
    const outcomes: unknown[] = keys.map(() => 'pending');
    const runs = keys.map((key, i) =>
      manager
        .withLock(key, { retry: { waitMs: 1_500 } }, () => placeOrder(key))
        .then(
          () => {
            outcomes[i] = 'done';
          },
          (error: unknown) => {
            outcomes[i] = error;
          },
        ),
    );
    expect(await settleWithin(runs, 2_500)).toBe('hung');
    // The one caller that found no lock connection failed with a clear error within its waitMs:
    // a local capacity limit, not "the store is down" ...
    expect(outcomes.filter((outcome) => outcome instanceof LockCapacityError)).toHaveLength(1);
    // ... but the holders wait forever for a pool connection for their own transaction.
    expect(outcomes.filter((outcome) => outcome === 'pending')).toHaveLength(POOL_SIZE);
    // Closing the backend releases the locks (their connections return), which unblocks them.
    await backend.close();
    await Promise.all(runs);
    expect(outcomes.filter((outcome) => outcome instanceof LockLostError)).toHaveLength(POOL_SIZE);
  });

  it('recommended: a separate DataSource for locks; every call completes and the app pool is left to the app', async () => {
    const locks = await sources.open(CONTENDERS);
    const { backend, manager } = setup(locks, { maxConnections: CONTENDERS });
    const keys = Array.from({ length: CONTENDERS }, (_, i) => `separate:${i}`);
    let peak = 0;
    const runs = keys.map((key) =>
      manager.withLock(key, { retry: { waitMs: WAIT_MS } }, async () => {
        peak = Math.max(peak, backend.connectionsInUse);
        await placeOrder(key);
      }),
    );
    const outcome = await settleWithin(runs, WAIT_MS + 2_000);
    expect(outcome).not.toBe('hung');
    expect(
      (outcome as PromiseSettledResult<unknown>[]).every((result) => result.status === 'fulfilled'),
    ).toBe(true);
    expect(peak).toBe(CONTENDERS);
  });
});
