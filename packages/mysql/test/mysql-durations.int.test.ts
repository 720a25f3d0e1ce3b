import { setTimeout as sleep } from 'node:timers/promises';
import { backendRequest as request } from '@dlock/conformance';
import { InvalidLockOptionsError, LockManager, LockNotAcquiredError, MAX_DURATION_MS } from '@dlock/core';
import type { DataSource } from 'typeorm';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { MySqlNamedLockBackend } from '../src/index.js';
import { dataSources, uniqueSuffix } from './support/mysql-test-support.js';

const THIRTY_DAYS_MS = 30 * 24 * 60 * 60 * 1000;
const suffix = uniqueSuffix();
const keyPrefix = `dur-${suffix}:`;
const sources = dataSources();
const open: { close(): Promise<void> }[] = [];
let dataSource: DataSource;

beforeAll(async () => {
  dataSource = await sources.open(10);
});
afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.allSettled(open.splice(0).map((item) => item.close()));
});
afterAll(() => sources.destroyAll());

function setup() {
  const backend = new MySqlNamedLockBackend(dataSource, { keyPrefix });
  const manager = new LockManager({ backends: { mysql: backend } });
  open.push(manager, backend);
  return { backend, manager };
}

describe('durations beyond what Node can time (2^31 - 1 ms)', () => {
  it('a 30-day lease is refused with InvalidLockOptionsError before any query, through LockManager and by the backend itself', async () => {
    const { backend, manager } = setup();
    const borrow = vi.spyOn(dataSource, 'createQueryRunner');
    await expect(manager.acquire('thirty-days', { leaseMs: THIRTY_DAYS_MS })).rejects.toBeInstanceOf(
      InvalidLockOptionsError,
    );
    // A BackendAcquireRequest need not come from the manager: the backend checks it too. Before,
    // it took the lock and its own lease timer (overflowed to 1 ms) released it under its holder.
    const direct = backend.acquire(request('thirty-days', { leaseMs: THIRTY_DAYS_MS }));
    await expect(direct).rejects.toBeInstanceOf(InvalidLockOptionsError);
    await expect(direct).rejects.toThrow(/leaseMs .*2147483647.*got 2592000000 \(number\)/);
    await expect(backend.acquire(request('thirty-days', { waitMs: THIRTY_DAYS_MS }))).rejects.toBeInstanceOf(
      InvalidLockOptionsError,
    );
    await expect(
      backend.acquire(request('thirty-days', { leaseMs: '30000' as unknown as number })),
    ).rejects.toThrow(/"30000" \(string\)/);
    expect(borrow).not.toHaveBeenCalled();
    expect(backend.connectionsInUse).toBe(0);
  });

  it('extend with a 30-day lease is refused and leaves the lock held', async () => {
    const { backend } = setup();
    const lock = (await backend.acquire(request('extend-long')))!;
    await expect(lock.extend(THIRTY_DAYS_MS)).rejects.toBeInstanceOf(InvalidLockOptionsError);
    await sleep(50);
    expect(await setup().backend.acquire(request('extend-long'))).toBeNull();
    expect(await lock.release()).toBe(true);
  });

  it('a lease of exactly MAX_DURATION_MS is held: a second manager cannot take the key 200 ms later', async () => {
    const { manager } = setup();
    const other = setup().manager;
    const handle = await manager.acquire('max-lease', { leaseMs: MAX_DURATION_MS });
    await sleep(200);
    await expect(other.acquire('max-lease')).rejects.toBeInstanceOf(LockNotAcquiredError);
    await handle.release();
    const next = await other.acquire('max-lease');
    await next.release();
  });
});
