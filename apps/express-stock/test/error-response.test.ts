import {
  InvalidLockKeyError,
  LockBackendError,
  LockCapacityError,
  LockLostError,
  LockNotAcquiredError,
  LockTimeoutError,
} from '@dlock/core';
import { describe, expect, it } from 'vitest';
import { toErrorResponse } from '../src/http/error-response.js';
import { CriticalSectionAbortedError } from '../src/locking/critical-sections.js';
import { InsufficientStockError } from '../src/stock/stock-errors.js';

describe('toErrorResponse', () => {
  it.each([
    [new InsufficientStockError('p', 0, 1), 409, 'INSUFFICIENT_STOCK'],
    [new LockNotAcquiredError('order:u', 'spin'), 409, 'LOCK_NOT_ACQUIRED'],
    [new LockTimeoutError('stock:p', 'pubsub', 100), 503, 'LOCK_TIMEOUT'],
    [new LockBackendError('down', { backend: 'spin' }), 503, 'STORE_UNAVAILABLE'],
    [
      new LockCapacityError('all in use', { backend: 'mysql', limit: 'maxConnections' }),
      503,
      'LOCK_CAPACITY',
    ],
    [new CriticalSectionAbortedError(), 503, 'SHUTTING_DOWN'],
    [
      Object.assign(new Error('request entity too large'), { status: 413, expose: true }),
      413,
      'PAYLOAD_TOO_LARGE',
    ],
    [
      Object.assign(new Error('unsupported charset'), { status: 415, expose: true }),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    ],
    [Object.assign(new Error('incorrect header check'), { status: 400, expose: true }), 400, 'INVALID_INPUT'],
    [new LockLostError('stock:p', 'pubsub'), 500, 'LOCK_LOST'],
    [new InvalidLockKeyError('bad key'), 500, 'INTERNAL_ERROR'],
    [Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), 503, 'STORE_UNAVAILABLE'],
    [
      { name: 'QueryFailedError', driverError: { code: 'PROTOCOL_CONNECTION_LOST' } },
      503,
      'STORE_UNAVAILABLE',
    ],
    [new Error('boom'), 500, 'INTERNAL_ERROR'],
  ])('%s -> %i %s', (error, status, code) => {
    expect(toErrorResponse(error)).toMatchObject({ status, code });
  });

  it('asks for a retry after 503s', () => {
    expect(toErrorResponse(new LockTimeoutError('stock:p', 'pubsub', 100)).retryAfterSeconds).toBeGreaterThan(
      0,
    );
    expect(toErrorResponse(new LockBackendError('down')).retryAfterSeconds).toBeGreaterThan(0);
    const capacity = new LockCapacityError('all in use', { limit: 'maxConnections' });
    expect(toErrorResponse(capacity)).toMatchObject({ retryAfterSeconds: 1 });
    expect(toErrorResponse(capacity).message).toMatch(/maxConnections.*healthy/);
  });

  it('while shutting down, an aborted wait or a failed method whose lock was released is a retryable 503', () => {
    const aborted = new LockBackendError('The lock manager is closed.', { isRetryable: false });
    expect(toErrorResponse(aborted, true)).toMatchObject({ status: 503, code: 'SHUTTING_DOWN' });
    const failedAndReleased = new LockLostError('order:u', 'spin', 'the lock manager was closed');
    Object.defineProperty(failedAndReleased, 'cause', { value: aborted });
    expect(toErrorResponse(failedAndReleased, true)).toMatchObject({ status: 503, code: 'SHUTTING_DOWN' });
    // A method that completed and then lost its lock may have written: never "just retry".
    expect(toErrorResponse(new LockLostError('order:u', 'spin'), true)).toMatchObject({
      status: 500,
      code: 'LOCK_LOST',
    });
  });
});
