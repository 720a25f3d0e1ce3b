// One app server of the multi-process exclusion test: increments the shared file counter under a
// MySQL named lock. Env: MYSQL_URL, KEY_PREFIX, LOCK_KEY, COUNTER_FILE, ITERATIONS.
import { runCounterWorker } from '@dlock/conformance/worker';
import { createLockDataSource, MySqlNamedLockBackend } from '../../src/index.js';

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`counter-worker: ${name} is not set`);
  return value;
};

const locks = await createLockDataSource({ url: env('MYSQL_URL'), poolSize: 3 });
const mysql = new MySqlNamedLockBackend(locks, { keyPrefix: env('KEY_PREFIX') });
await runCounterWorker({
  backends: { mysql },
  key: env('LOCK_KEY'),
  counterFile: env('COUNTER_FILE'),
  iterations: Number(env('ITERATIONS')),
  concurrency: 2,
});
await locks.destroy();
