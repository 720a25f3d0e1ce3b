import type { LockManager } from '@dlock/core';
import type { DataSource } from 'typeorm';

/**
 * Run the pending migrations of `dataSource` under the lock `schema:<database>.<prefix>`, so that
 * servers starting together do not run the same DDL twice: the first runs them, the others wait,
 * then find nothing pending.
 *
 * @example
 * await migrateSchema({ dataSource, lockManager, tablePrefix: 'demo_' });
 */
export async function migrateSchema(options: {
  readonly dataSource: DataSource;
  readonly lockManager: LockManager;
  readonly tablePrefix: string;
}): Promise<void> {
  const { dataSource, lockManager, tablePrefix } = options;
  const database = dataSource.driver.database ?? '';
  await lockManager.withLock(`schema:${database}.${tablePrefix}`, { retry: { waitMs: 60_000 } }, async () => {
    // MySQL commits every DDL statement on its own: one transaction per migration would promise
    // an atomicity the database cannot give.
    await dataSource.runMigrations({ transaction: 'none' });
  });
}
