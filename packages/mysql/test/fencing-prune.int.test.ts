import { LockManager } from '@dlock/core';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { MySqlNamedLockBackend } from '../src/index.js';
import { dataSources, uniqueSuffix } from './support/mysql-test-support.js';

const suffix = uniqueSuffix();
const fencingTable = `dlock_fencing_prune_${suffix}`;
const sources = dataSources();
let dataSource: DataSource;

beforeAll(async () => {
  dataSource = await sources.open(6);
});
afterAll(async () => {
  await dataSource.query(`DROP TABLE IF EXISTS \`${fencingTable}\``);
  await sources.destroyAll();
});

it('a prune that cannot finish never ends the session of a lock being taken, nor delays it', async () => {
  const options = { keyPrefix: `prune-${suffix}:`, fencingTable, commandTimeoutMs: 1_000 };
  // Create the table and a row the prune will want to delete (aged by hand past the retention).
  const setup = new LockManager({ backends: { mysql: new MySqlNamedLockBackend(dataSource, options) } });
  await (await setup.acquire('old')).release();
  await setup.close();
  // Let the setup backend's own background prune (due at its first acquisition) finish first.
  await new Promise((resolve) => setTimeout(resolve, 500));
  await dataSource.query(`UPDATE \`${fencingTable}\` SET token = token - 7200000000`);

  // Another transaction holds the old row (a record lock on its primary key, no gap): the prune's
  // DELETE waits for it; a new name's INSERT does not.
  const [old] = (await dataSource.query(`SELECT name FROM \`${fencingTable}\``)) as { name: string }[];
  const blocker = dataSource.createQueryRunner();
  await blocker.connect();
  await blocker.startTransaction();
  await blocker.query(`SELECT * FROM \`${fencingTable}\` WHERE name = ? FOR UPDATE`, [old!.name]);
  try {
    // A fresh backend: its first acquisition makes the prune due.
    const manager = new LockManager({ backends: { mysql: new MySqlNamedLockBackend(dataSource, options) } });
    const startedAt = Date.now();
    const lock = await manager.acquire('new', { retry: { waitMs: 300 }, leaseMs: 10_000 });
    expect(Date.now() - startedAt).toBeLessThan(1_000);
    await new Promise((resolve) => setTimeout(resolve, 1_500)); // past the prune's command timeout
    expect(lock.signal.aborted).toBe(false);
    // Still held on the server: another session cannot take it.
    const other = new LockManager({ backends: { mysql: new MySqlNamedLockBackend(dataSource, options) } });
    await expect(other.withLock('new', {}, async () => 'taken twice')).rejects.toThrow(/held by another/);
    await other.close();
    await lock.release();
    await manager.close();
  } finally {
    await blocker.rollbackTransaction();
    await blocker.release();
  }
}, 30_000);
