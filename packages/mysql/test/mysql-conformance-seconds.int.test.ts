import { runLockBackendConformance } from '@dlock/conformance';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll } from 'vitest';
import { MySqlNamedLockBackend } from '../src/index.js';
import { dataSources, uniqueSuffix } from './support/mysql-test-support.js';

const suffix = uniqueSuffix();
const sources = dataSources();
let dataSource: DataSource;

beforeAll(async () => {
  dataSource = await sources.open(60);
});
afterAll(async () => {
  await sources.destroyAll();
});

// The MySQL flavour on the same server: whole-second GET_LOCK timeouts (cut at the deadline by
// KILL QUERY), default slices, and no fencing table.
runLockBackendConformance({
  name: 'mysql named locks (whole-second timeouts, no fencing)',
  fencing: false,
  createBackend: () =>
    new MySqlNamedLockBackend(dataSource, { keyPrefix: `conf-s-${suffix}:`, fractionalTimeouts: false }),
});
