// Takes a lock with a long lease and holds it until killed; prints "holding <connection id>".
// Env: MYSQL_URL, KEY_PREFIX, LOCK_KEY.
import { LockManager } from '@dlock/core';
import { createLockDataSource, MySqlNamedLockBackend } from '../../src/index.js';

const url = process.env.MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';
const key = process.env.LOCK_KEY ?? 'holder';
const locks = await createLockDataSource({ url, poolSize: 2 });
const mysql = new MySqlNamedLockBackend(locks, { keyPrefix: process.env.KEY_PREFIX ?? 'dlock:' });
const manager = new LockManager({ backends: { mysql } });

await manager.withLock(key, { leaseMs: 60_000 }, async () => {
  const [row] = (await locks.query('SELECT IS_USED_LOCK(?) AS holder', [mysql.lockNameOf(key)])) as {
    holder: number;
  }[];
  console.log(`holding ${row?.holder}`);
  // Hold until SIGKILL.
  await new Promise(() => setInterval(() => {}, 60_000));
});
