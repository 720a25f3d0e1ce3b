import { LockInspectionUnsupportedError, LockManager } from '@dlock/core';
import type { DataSource } from 'typeorm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MySqlNamedLockBackend } from '../src/index.js';
import { dataSources, uniqueSuffix } from './support/mysql-test-support.js';

// inspect / forceRelease through MySQL's own view: IS_USED_LOCK, the process list, KILL.
const suffix = uniqueSuffix();
const keyPrefix = `inspect-${suffix}:`;
const fencingTable = `dlock_fencing_inspect_${suffix}`;
const sources = dataSources();
const managers: LockManager[] = [];
let holderSource: DataSource;
let operatorSource: DataSource;

beforeAll(async () => {
  [holderSource, operatorSource] = await Promise.all([sources.open(5), sources.open(5)]);
});
afterEach(async () => {
  await Promise.all(managers.splice(0).map((manager) => manager.close()));
});
afterAll(async () => {
  await operatorSource.query(`DROP TABLE IF EXISTS \`${fencingTable}\``);
  await sources.destroyAll();
});

function manager(dataSource: DataSource): LockManager<'mysql'> {
  const created = new LockManager({
    backends: {
      mysql: new MySqlNamedLockBackend(dataSource, { keyPrefix, fencingTable, maxConnections: 4 }),
    },
  });
  managers.push(created);
  return created;
}

describe('MySQL: inspect, forceRelease', () => {
  it('inspect names the holding session and counts the sessions waiting in GET_LOCK', async () => {
    const [holder, waiterManager, operator] = [
      manager(holderSource),
      manager(operatorSource),
      manager(operatorSource),
    ];
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      void holder.withLock('stock:1', { leaseMs: 5_000 }, async () => {
        resolve();
        await new Promise<void>((done) => {
          release = done;
        });
      });
    });
    await held;
    const waiting = waiterManager.withLock('stock:1', { retry: { waitMs: 20_000 } }, () => 'waited');
    await expect.poll(async () => (await operator.inspect('stock:1')).waiters, { timeout: 10_000 }).toBe(1);
    const lock = await operator.inspect('stock:1');
    expect(lock).toMatchObject({ key: 'stock:1', backend: 'mysql', held: true, leaseRemainingMs: undefined });
    expect(lock.owner?.session?.connectionId).toBeGreaterThan(0);
    expect(lock.owner?.session?.user).toBe('root');
    expect(lock.fencingToken).toBeGreaterThan(0);
    release();
    expect(await waiting).toBe('waited');
    expect((await operator.inspect('stock:1')).held).toBe(false);
  });

  it('forceRelease KILLs the holding session: the holder reports the lock lost', async () => {
    const [holder, operator] = [manager(holderSource), manager(operatorSource)];
    let signal!: AbortSignal;
    let finish!: () => void;
    const outcome = new Promise<void>((held) => {
      void holder
        .withLock('job:1', { leaseMs: 5_000 }, async (scope) => {
          signal = scope.signal;
          held();
          await new Promise<void>((done) => {
            finish = done;
          });
        })
        .catch(() => undefined);
    });
    await outcome;
    const before = await operator.inspect('job:1');
    const result = await operator.forceRelease('job:1');
    expect(result).toMatchObject({ released: true, previousFencingToken: before.fencingToken });
    expect(result.previousOwner?.session?.connectionId).toBe(before.owner?.session?.connectionId);
    await expect.poll(() => signal.aborted, { timeout: 10_000 }).toBe(true);
    finish();
    const fence = await operator.withLock('job:1', {}, (scope) => scope.locks[0]!.fencingToken!);
    expect(fence).toBeGreaterThan(before.fencingToken!);
  });

  it('list is not supported: lock names are hashed and cannot be mapped back to keys', async () => {
    const error = await manager(operatorSource)
      .list()
      .catch((caught: unknown) => caught);
    expect(LockInspectionUnsupportedError.isInstance(error)).toBe(true);
  });
});
