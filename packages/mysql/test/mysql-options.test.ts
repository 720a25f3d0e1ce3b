import { InvalidLockOptionsError, LockBackendError } from '@dlock/core';
import { DataSource } from 'typeorm';
import { describe, expect, it } from 'vitest';
import { MySqlNamedLockBackend, type MySqlNamedLockBackendOptions } from '../src/index.js';
import { ER_USER_LOCK_DEADLOCK, toMySqlBackendError } from '../src/mysql-backend-error.js';
import { MYSQL_URL } from './support/mysql-test-support.js';

// Never initialized: constructing the backend must not touch the server.
const idle = new DataSource({ type: 'mysql', url: MYSQL_URL, poolSize: 4 });

describe('MySqlNamedLockBackend options (checked before any query)', () => {
  it.each<[string, MySqlNamedLockBackendOptions]>([
    ['maxConnections 0', { maxConnections: 0 }],
    ['maxConnections 1.5', { maxConnections: 1.5 }],
    ['connectionTimeoutMs -1', { connectionTimeoutMs: -1 }],
    ['connectionTimeoutMs Infinity', { connectionTimeoutMs: Number.POSITIVE_INFINITY }],
    ['waitSliceMs NaN', { waitSliceMs: Number.NaN }],
    ['waitSliceMs 0', { waitSliceMs: 0 }],
    ['keyPrefix with a control character', { keyPrefix: 'a\nb' }],
    ['keyPrefix not a string', { keyPrefix: 42 as unknown as string }],
    ['fencingTable with SQL', { fencingTable: 'fence; DROP TABLE users' }],
    ['fencingTable with a backtick', { fencingTable: 'a`b' }],
    ['fractionalTimeouts not a boolean', { fractionalTimeouts: 'yes' as unknown as boolean }],
  ])('rejects %s with InvalidLockOptionsError', (_, options) => {
    expect(() => new MySqlNamedLockBackend(idle, options)).toThrow(InvalidLockOptionsError);
  });

  it('rejects something that is not a mysql/mariadb DataSource', () => {
    expect(() => new MySqlNamedLockBackend({} as DataSource)).toThrow(InvalidLockOptionsError);
    const postgresLike = { createQueryRunner() {}, options: { type: 'postgres' } } as unknown as DataSource;
    expect(() => new MySqlNamedLockBackend(postgresLike)).toThrow(/"mysql" or "mariadb"/);
  });

  it('defaults maxConnections to the pool size minus one', () => {
    expect(new MySqlNamedLockBackend(idle).maxConnections).toBe(3);
    const extra = new DataSource({ type: 'mariadb', url: MYSQL_URL, extra: { connectionLimit: 7 } });
    expect(new MySqlNamedLockBackend(extra).maxConnections).toBe(6);
    expect(new MySqlNamedLockBackend(idle, { maxConnections: 4 }).maxConnections).toBe(4);
  });

  it('refuses to lock through a DataSource that is not initialized, without retry advice', async () => {
    const backend = new MySqlNamedLockBackend(idle);
    const attempt = backend.acquire({
      key: 'k',
      token: 't',
      leaseMs: 1_000,
      waitMs: 0,
      signal: new AbortController().signal,
    });
    await expect(attempt).rejects.toBeInstanceOf(LockBackendError);
    await expect(attempt).rejects.toMatchObject({ isRetryable: false, message: /initialize/ });
  });
});

describe('toMySqlBackendError', () => {
  it('maps ER_USER_LOCK_DEADLOCK to a LockBackendError that explains the fix', () => {
    const driverError = Object.assign(new Error('Deadlock found when trying to get user-level lock'), {
      errno: ER_USER_LOCK_DEADLOCK,
      code: 'ER_USER_LOCK_DEADLOCK',
    });
    const error = toMySqlBackendError(driverError, { key: 'stock:1', action: 'acquiring' });
    expect(error).toBeInstanceOf(LockBackendError);
    expect(error.message).toMatch(/deadlock/i);
    expect(error.message).toMatch(/deterministic order/);
    expect(error.cause).toBe(driverError);
    expect(error.key).toBe('stock:1');
  });

  it('marks server error replies as not retryable and lost connections as retryable', () => {
    const denied = Object.assign(new Error('Access denied'), {
      code: 'ER_DBACCESS_DENIED_ERROR',
      errno: 1044,
    });
    const lost = Object.assign(new Error('Connection lost'), {
      code: 'PROTOCOL_CONNECTION_LOST',
      fatal: true,
    });
    expect(
      (toMySqlBackendError(denied, { key: 'k', action: 'acquiring' }) as LockBackendError).isRetryable,
    ).toBe(false);
    expect(
      (toMySqlBackendError(lost, { key: 'k', action: 'acquiring' }) as LockBackendError).isRetryable,
    ).toBe(true);
  });
});
