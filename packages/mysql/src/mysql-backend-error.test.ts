import { LockBackendError } from '@dlock/core';
import { describe, expect, it } from 'vitest';
import {
  ER_CON_COUNT_ERROR,
  ER_TOO_MANY_USER_CONNECTIONS,
  lockDataSourceStartFailed,
  toMySqlBackendError,
} from './mysql-backend-error.js';

/** What mysql2 hands back when the server refuses the handshake: an ER_ code, and `fatal`. */
function refused(code: string, errno: number): Error {
  return Object.assign(new Error(`${code}: Too many connections`), { code, errno, fatal: true });
}

describe('toMySqlBackendError: the server refusing new connections', () => {
  it.each([
    ['ER_CON_COUNT_ERROR', ER_CON_COUNT_ERROR],
    ['ER_TOO_MANY_USER_CONNECTIONS', ER_TOO_MANY_USER_CONNECTIONS],
  ])('%s is not retryable (a configured ceiling), even though mysql2 marks it fatal', (code, errno) => {
    const driverError = refused(code, errno);
    const error = toMySqlBackendError(driverError, { key: 'stock:1', action: 'acquiring' });
    expect(error).toBeInstanceOf(LockBackendError);
    expect((error as LockBackendError).isRetryable).toBe(false);
    expect(error.cause).toBe(driverError);
    expect(error.message).toMatch(/max_connections/);
    expect(error.message).toMatch(/poolSize and maxConnections/);
  });

  it('a lost connection stays retryable', () => {
    const lost = Object.assign(new Error('Connection lost'), {
      code: 'PROTOCOL_CONNECTION_LOST',
      fatal: true,
    });
    expect(
      (toMySqlBackendError(lost, { key: 'k', action: 'acquiring' }) as LockBackendError).isRetryable,
    ).toBe(true);
  });
});

describe('lockDataSourceStartFailed: why createLockDataSource could not connect', () => {
  it.each([
    ['ECONNRESET', undefined],
    ['EPIPE', undefined],
    ['ETIMEDOUT', undefined],
    ['ECONNREFUSED', -111],
    ['PROTOCOL_CONNECTION_LOST', undefined],
    ['ER_CONNECTION_KILLED', 1927],
    ['ER_SERVER_SHUTDOWN', 1053],
  ])('%s is retryable: the next try may get through', (code, errno) => {
    const driverError = Object.assign(new Error(`connect ${code}`), { code, errno, fatal: true });
    const error = lockDataSourceStartFailed(driverError, 'db:3306');
    expect(error.isRetryable).toBe(true);
    expect(error.cause).toBe(driverError);
    expect(error.backend).toBe('mysql');
    expect(error.message).toMatch(/could not connect to MySQL at db:3306: connect /);
  });

  it.each([
    ['ER_ACCESS_DENIED_ERROR', 1045],
    ['ER_BAD_DB_ERROR', 1049],
    ['ER_CON_COUNT_ERROR', ER_CON_COUNT_ERROR],
  ])('%s is not retryable: the server refuses every try alike', (code, errno) => {
    const error = lockDataSourceStartFailed(Object.assign(new Error(code), { code, errno }), 'db:3306');
    expect(error.isRetryable).toBe(false);
    expect(error.message).toMatch(/retrying will not help/);
  });
});
