import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { createLockDataSource } from '../../src/index.js';

/** The MariaDB/MySQL server the integration tests run against. */
export const MYSQL_URL = process.env.MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';

/** A short random suffix so parallel test files never share keys or tables. */
export function uniqueSuffix(): string {
  return randomUUID().replaceAll('-', '').slice(0, 10);
}

/**
 * Open DataSources and destroy them all at the end of the file.
 *
 * @example
 * const sources = dataSources(); afterAll(() => sources.destroyAll());
 * const dataSource = await sources.open(4);
 */
export function dataSources() {
  const opened: DataSource[] = [];
  return {
    async open(poolSize = 10): Promise<DataSource> {
      const dataSource = await createLockDataSource({ url: MYSQL_URL, poolSize });
      opened.push(dataSource);
      return dataSource;
    },
    async destroyAll(): Promise<void> {
      await Promise.allSettled(opened.splice(0).map((dataSource) => dataSource.destroy()));
    },
  };
}
