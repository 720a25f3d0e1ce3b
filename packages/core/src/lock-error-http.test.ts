import { describe, expect, it } from 'vitest';
import {
  InvalidLockKeyError,
  LockAbortedError,
  LockBackendError,
  LockCapacityError,
  LockLostError,
  LockNotAcquiredError,
  LockTimeoutError,
} from './errors.js';
import { lockErrorHttpResponse } from './lock-error-http.js';

describe('lockErrorHttpResponse', () => {
  it.each([
    [new LockNotAcquiredError('k', 'spin'), 409, undefined],
    [new LockTimeoutError('k', 'pubsub', 100), 503, 1],
    [new LockCapacityError('full', { limit: 'maxConnections' }), 503, 1],
    [new LockAbortedError('k', 'pubsub', 'gone'), 503, 1],
    [new LockBackendError('down'), 503, 5],
    [new LockBackendError('bad config', { isRetryable: false }), 500, undefined],
    [new LockLostError('k', 'spin'), 500, undefined],
    [new InvalidLockKeyError('bad key'), 500, undefined],
  ])('%s -> %i', (error, status, retryAfterSeconds) => {
    const answer = lockErrorHttpResponse(error);
    expect(answer?.status).toBe(status);
    expect(answer?.retryAfterSeconds).toBe(retryAfterSeconds);
    expect(answer?.message).not.toContain('k"');
  });

  it('ignores errors that are not dlock errors', () => {
    expect(lockErrorHttpResponse(new Error('other'))).toBeUndefined();
  });
});
