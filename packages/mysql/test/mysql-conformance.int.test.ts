import { runLockBackendConformance } from '@dlock/conformance';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll } from 'vitest';
import { MySqlNamedLockBackend } from '../src/index.js';
import { dataSources, uniqueSuffix } from './support/mysql-test-support.js';

const suffix = uniqueSuffix();
const sources = dataSources();
const fencingTable = `dlock_fencing_conf_${suffix}`;
let dataSource: DataSource;

beforeAll(async () => {
  dataSource = await sources.open(60);
});
afterAll(async () => {
  await dataSource.query(`DROP TABLE IF EXISTS \`${fencingTable}\``);
  await sources.destroyAll();
});

// Several backends on one DataSource stand in for several app servers: each lock still has its
// own session, which is all the server sees.
runLockBackendConformance({
  name: 'mysql named locks (fencing table)',
  createBackend: () =>
    new MySqlNamedLockBackend(dataSource, { keyPrefix: `conf-${suffix}:`, fencingTable, waitSliceMs: 500 }),
});
