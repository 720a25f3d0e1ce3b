import { runLockBackendConformance } from '@dlock/conformance';
import { FaultyLink } from '@dlock/testing';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll } from 'vitest';
import { createLockDataSource, MySqlNamedLockBackend } from '../src/index.js';
import { MYSQL_URL, uniqueSuffix } from './support/mysql-test-support.js';

const suffix = uniqueSuffix();
const fencingTable = `dlock_fencing_slow_${suffix}`;
let link: FaultyLink;
let dataSource: DataSource;

// Every byte each way is delayed 2 ms ± 1 ms: round trips stop being free, so anything that
// assumed an instant answer (deadline arithmetic, the reply grace, KILL QUERY races) shows up.
beforeAll(async () => {
  link = await FaultyLink.start({
    target: { host: '127.0.0.1', port: 3306 },
    latency: { upMs: 2, downMs: 2, jitterMs: 1 },
  });
  dataSource = await createLockDataSource({ url: link.url(MYSQL_URL), poolSize: 60 });
});
afterAll(async () => {
  await dataSource.query(`DROP TABLE IF EXISTS \`${fencingTable}\``);
  await dataSource.destroy();
  await link.close();
});

runLockBackendConformance({
  name: 'mysql named locks through a 2 ms ± 1 ms link',
  createBackend: () =>
    new MySqlNamedLockBackend(dataSource, {
      keyPrefix: `conf-slow-${suffix}:`,
      fencingTable,
      waitSliceMs: 500,
    }),
});
