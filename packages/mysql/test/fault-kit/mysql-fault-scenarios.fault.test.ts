import { runFaultScenarios } from '@dlock/conformance/fault';
import { MYSQL_URL } from '../support/mysql-test-support.js';

runFaultScenarios({
  name: 'mysql',
  backendModule: new URL('./mysql-fault-backend.ts', import.meta.url),
  storeUrl: MYSQL_URL,
  commandTimeoutMs: 5_000,
  // GET_LOCK belongs to the session: a frozen holder keeps the lock until it runs again.
  sessionBound: true,
});
