import { LockBackendError } from '@dlock/core';
import { describe, expect, it } from 'vitest';
import {
  ER_CON_COUNT_ERROR,
  ER_TOO_MANY_USER_CONNECTIONS,
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
