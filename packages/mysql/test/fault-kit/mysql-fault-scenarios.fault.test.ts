import { fileURLToPath } from 'node:url';
import { runFaultScenarios } from '@dlock/conformance/fault';
import { MYSQL_URL } from '../support/mysql-test-support.js';

const mysql = new URL(MYSQL_URL);

runFaultScenarios({
  name: 'mysql',
  backendModule: fileURLToPath(new URL('./mysql-fault-backend.ts', import.meta.url)),
  store: { url: MYSQL_URL, host: mysql.hostname, port: Number(mysql.port || 3306) },
  commandTimeoutMs: 5_000,
  // GET_LOCK belongs to the session: a frozen holder keeps the lock until it runs again.
  sessionBound: true,
});
