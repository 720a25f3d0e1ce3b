// Regression (chaos seed 109483209): a link reset while TypeORM's initialize() runs `SELECT version()`
// rejected createLockDataSource with `read ECONNRESET`, and the fault-kit backend passed it on, so a
// chaos worker started under faults died at its top-level await. The fault-kit backend now retries.
import { LockManager } from '@dlock/core';
import { FaultyLink } from '@dlock/testing';
import { MysqlQueryRunner } from 'typeorm/driver/mysql/MysqlQueryRunner.js';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MYSQL_URL, uniqueSuffix } from '../support/mysql-test-support.js';
import { createFaultBackend } from './mysql-fault-backend.js';

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.allSettled(open.splice(0).map((item) => item.close()));
});

describe('the fault-kit MySQL backend', () => {
  it('survives a link reset during its DataSource initialization (SELECT version())', async () => {
    const mysql = new URL(MYSQL_URL);
    const link = await FaultyLink.start({
      target: { host: mysql.hostname, port: Number(mysql.port || 3306) },
    });
    open.push(link);
    // Deterministic, not timed: reset the link in the very call that sends TypeORM's version query,
    // so the RST reaches the pool connection with that query on it, as in the chaos run.
    const failures: unknown[] = [];
    const query = MysqlQueryRunner.prototype.query;
    vi.spyOn(MysqlQueryRunner.prototype, 'query').mockImplementation(function (
      this: MysqlQueryRunner,
      ...args: Parameters<typeof query>
    ) {
      const result = query.apply(this, args);
      if (args[0] === 'SELECT version()' && failures.length === 0) {
        failures.push('pending');
        link.reset();
        result.then(
          () => failures.splice(0, 1, 'answered'),
          (error: { code?: unknown }) => failures.splice(0, 1, error.code),
        );
      }
      return result;
    });

    const handle = await createFaultBackend(link.url(MYSQL_URL), { keyPrefix: `startup-${uniqueSuffix()}:` });
    open.push(handle);
    // The first initialization really failed on the reset (the write or the read sees the RST).
    expect(['ECONNRESET', 'EPIPE']).toContain(failures[0]);
    const manager = new LockManager({ backends: { mysql: handle.backend } });
    open.push(manager);
    await expect(manager.withLock('k', {}, async () => 'ran')).resolves.toBe('ran');
  });
});
