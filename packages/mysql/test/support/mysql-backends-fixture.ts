import type { DataSource } from 'typeorm';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { MySqlNamedLockBackend, type MySqlNamedLockBackendOptions } from '../../src/index.js';
import { dataSources, uniqueSuffix } from './mysql-test-support.js';

/**
 * One test file's MySQL backends: a DataSource of its own (80 connections), key prefix and table
 * names unique to the file, a victim table for the injection tests, every backend made through
 * `backend()` closed after each test and the tables dropped at the end.
 *
 * @example
 * const { backend, dataSource } = useMySqlBackends();
 */
export function useMySqlBackends() {
  const suffix = uniqueSuffix();
  const keyPrefix = `it-${suffix}:`;
  const victimTable = `dlock_victim_${suffix}`;
  const fencingTable = `dlock_fencing_it_${suffix}`;
  const sources = dataSources();
  const open: { close(): Promise<void> }[] = [];
  let source: DataSource | undefined;
  const dataSource = (): DataSource => {
    if (!source) throw new Error('useMySqlBackends: the DataSource opens in beforeAll');
    return source;
  };

  beforeAll(async () => {
    source = await sources.open(80);
    await source.query(`CREATE TABLE \`${victimTable}\` (id INT PRIMARY KEY)`);
    await source.query(`INSERT INTO \`${victimTable}\` VALUES (1)`);
  });
  afterEach(async () => {
    await Promise.allSettled(open.splice(0).map((item) => item.close()));
  });
  afterAll(async () => {
    await source?.query(`DROP TABLE IF EXISTS \`${victimTable}\``);
    await source?.query(`DROP TABLE IF EXISTS \`${fencingTable}\``);
    await sources.destroyAll();
  });

  return {
    keyPrefix,
    victimTable,
    fencingTable,
    sources,
    dataSource,
    /** Close `item` (a manager, say) after the test. */
    closeAfterTest(item: { close(): Promise<void> }): void {
      open.push(item);
    },
    /** A backend with the file's key prefix, closed after the test. */
    backend(
      options: MySqlNamedLockBackendOptions = {},
      on: DataSource = dataSource(),
    ): MySqlNamedLockBackend {
      const created = new MySqlNamedLockBackend(on, { keyPrefix, ...options });
      open.push(created);
      return created;
    },
    /** The connection id holding the named lock `name`, or null. */
    async holder(name: string): Promise<number | null> {
      const [row] = (await dataSource().query('SELECT IS_USED_LOCK(?) AS holder', [name])) as {
        holder: number | null;
      }[];
      return row?.holder ?? null;
    },
  };
}
