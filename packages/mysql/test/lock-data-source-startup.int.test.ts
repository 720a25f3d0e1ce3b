// createLockDataSource when initialize() fails: the caller gets a typed LockBackendError, and
// nothing the failed start opened (mysql2 pool, sockets) stays open. Real MariaDB behind a
// FaultyLink, so every socket the DataSource opens is counted by the link.
import { LockBackendError } from '@dlock/core';
import { FaultyLink } from '@dlock/testing';
import mysql2, { type Pool } from 'mysql2';
import { MysqlQueryRunner } from 'typeorm/driver/mysql/MysqlQueryRunner.js';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLockDataSource } from '../src/index.js';
import { MYSQL_URL } from './support/mysql-test-support.js';

// Only for the sockets to close after the pool has ended: the server answers COM_QUIT by closing
// the connection, and the link sees that close a loop turn or two later.
const SOCKETS_CLOSE_WITHIN_MS = 10_000;

const links: FaultyLink[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.allSettled(links.splice(0).map((link) => link.close()));
});

async function startLink(): Promise<FaultyLink> {
  const mysql = new URL(MYSQL_URL);
  const link = await FaultyLink.start({ target: { host: mysql.hostname, port: Number(mysql.port || 3306) } });
  links.push(link);
  return link;
}

/** Every mysql2 pool TypeORM creates from here on (the spy passes each call through unchanged). */
function capturePools(): Pool[] {
  const pools: Pool[] = [];
  const createPool = mysql2.createPool;
  vi.spyOn(mysql2, 'createPool').mockImplementation((...args: Parameters<typeof createPool>) => {
    const pool = createPool(...args);
    pools.push(pool);
    return pool;
  });
  return pools;
}

function getConnection(pool: Pool): Promise<void> {
  return new Promise((resolve, reject) => {
    pool.getConnection((error, connection) => {
      if (error) return reject(error);
      connection.release();
      resolve();
    });
  });
}

async function expectAllClosed(pools: Pool[], link: FaultyLink): Promise<void> {
  expect(pools.length).toBeGreaterThan(0);
  // mysql2 refuses connections from an ended pool at once: proof the pool was ended, not just idle.
  for (const pool of pools) await expect(getConnection(pool)).rejects.toThrow('Pool is closed.');
  await vi.waitFor(() => expect(link.connectionCount).toBe(0), { timeout: SOCKETS_CLOSE_WITHIN_MS });
}

async function startFailure(url: string): Promise<LockBackendError> {
  const error: unknown = await createLockDataSource({ url, poolSize: 4, connectTimeoutMs: 5_000 }).then(
    (dataSource) => dataSource.destroy().then(() => new Error('createLockDataSource connected')),
    (rejection: unknown) => rejection,
  );
  expect(LockBackendError.isInstance(error), String(error)).toBe(true);
  return error as LockBackendError;
}

describe('createLockDataSource when the start fails', () => {
  it('a link reset during SELECT version(): retryable LockBackendError, pool ended, no socket left', async () => {
    const link = await startLink();
    const pools = capturePools();
    let driverError: { code?: unknown } | undefined;
    let openAfterReset = 0;
    const query = MysqlQueryRunner.prototype.query;
    vi.spyOn(MysqlQueryRunner.prototype, 'query').mockImplementation(function (
      this: MysqlQueryRunner,
      ...args: Parameters<typeof query>
    ) {
      const result = query.apply(this, args);
      if (args[0] !== 'SELECT version()' || driverError !== undefined) return result;
      // Deterministic, not timed: the RST hits the pool connection that carries the version query.
      link.reset();
      driverError = {};
      result.catch((error: { code?: unknown }) => {
        driverError = error;
      });
      // A second connection, opened after the reset so it survives it, and left idle in the pool:
      // TypeORM never ends that pool on this path, so only the fix closes this socket.
      return getConnection(this.driver.pool as Pool).then(() => {
        openAfterReset = link.connectionCount;
        return result;
      });
    });

    const error = await startFailure(link.url(MYSQL_URL));

    expect(openAfterReset).toBeGreaterThan(0);
    expect(['ECONNRESET', 'EPIPE']).toContain(driverError?.code);
    expect(error.cause).toBe(driverError);
    expect(error.isRetryable).toBe(true);
    expect(error.backend).toBe('mysql');
    expect(error.message).toMatch(/lock DataSource .* could not connect to MySQL at 127\.0\.0\.1:\d+/);
    await expectAllClosed(pools, link);
  });

  it.each([
    [
      'a wrong password',
      /^ER_ACCESS_DENIED_ERROR$/,
      (url: URL) => Object.assign(url, { password: 'definitely-wrong' }),
    ],
    // Without a password MariaDB answers ER_ACCESS_DENIED_NO_PASSWORD_ERROR.
    [
      'an unknown user',
      /^ER_ACCESS_DENIED_/,
      (url: URL) => Object.assign(url, { username: 'dlock_no_such_user' }),
    ],
    [
      'an unknown database',
      /^ER_BAD_DB_ERROR$/,
      (url: URL) => Object.assign(url, { pathname: '/dlock_no_such_db' }),
    ],
  ])('%s: non-retryable LockBackendError, nothing left open', async (_case, code, spoil) => {
    const link = await startLink();
    const pools = capturePools();
    const url = spoil(new URL(link.url(MYSQL_URL))).toString();

    const error = await startFailure(url);

    expect(error.isRetryable).toBe(false);
    expect(error.backend).toBe('mysql');
    expect(String((error.cause as { code?: unknown }).code)).toMatch(code);
    expect(error.message).toMatch(/could not connect/);
    expect(error.message).not.toContain('definitely-wrong');
    await expectAllClosed(pools, link);
  });

  it('still returns a working DataSource when nothing fails', async () => {
    const link = await startLink();
    const dataSource = await createLockDataSource({ url: link.url(MYSQL_URL), poolSize: 2 });
    try {
      await expect(dataSource.query('SELECT 1 AS one')).resolves.toEqual([{ one: 1 }]);
    } finally {
      await dataSource.destroy();
    }
    await vi.waitFor(() => expect(link.connectionCount).toBe(0), { timeout: SOCKETS_CLOSE_WITHIN_MS });
  });
});
