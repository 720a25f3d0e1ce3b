import { LockBackendError, LockError } from './errors.js';

/** How an HTTP API should answer a dlock error. */
export interface LockErrorHttpResponse {
  readonly status: number;
  /** Stable code for the response body; the `LockError` code, except where noted below. */
  readonly code: string;
  /** A message safe to show clients (no key, no store address). */
  readonly message: string;
  /** Seconds for a `Retry-After` header, when waiting can help. */
  readonly retryAfterSeconds?: number;
  /** 5xx that point at the server (log them as faults); 409/503 that are expected under load are not. */
  readonly isServerFault: boolean;
}

/**
 * One table from dlock errors to HTTP answers, shared by the Express sample and `@dlock/nestjs`:
 *
 * | error | status | why |
 * | --- | --- | --- |
 * | `LockNotAcquiredError` | 409 | someone else is changing the resource right now |
 * | `LockTimeoutError` | 503 + `Retry-After: 1` | busy, not broken |
 * | `LockCapacityError` | 503 + `Retry-After: 1` | this instance's own lock limit; others may have room |
 * | `LockBackendError` | 503 + `Retry-After: 5` (retryable) / 500 | the lock store is down, or misconfigured |
 * | `LockAbortedError` | 503 | the wait was cancelled (client gone, shutdown) |
 * | `LockLostError` | 500 | the work may have overlapped another holder; a blind retry could repeat it |
 * | `InvalidLockKeyError`, `InvalidLockOptionsError` | 500 | a bug in the caller's code |
 *
 * Returns `undefined` for anything that is not a dlock error.
 *
 * @example
 * const answer = lockErrorHttpResponse(error);
 * if (answer) {
 *   if (answer.retryAfterSeconds) response.setHeader('Retry-After', String(answer.retryAfterSeconds));
 *   return response.status(answer.status).json({ error: { code: answer.code, message: answer.message } });
 * }
 */
export function lockErrorHttpResponse(error: unknown): LockErrorHttpResponse | undefined {
  if (!LockError.isInstance(error)) return undefined;
  switch (error.code) {
    case 'LOCK_NOT_ACQUIRED':
      return answer(409, error.code, 'Another request for the same resource is in progress.', false);
    case 'LOCK_TIMEOUT':
      return answer(503, error.code, 'The resource stayed busy; retry shortly.', false, 1);
    case 'LOCK_CAPACITY_EXCEEDED':
      return answer(503, error.code, 'This server holds as many locks as it may; retry shortly.', false, 1);
    case 'LOCK_ABORTED':
      return answer(503, error.code, 'Waiting for the resource was cancelled; retry.', false, 1);
    case 'LOCK_BACKEND_ERROR':
      return LockBackendError.isInstance(error) && error.isRetryable
        ? answer(503, 'LOCK_STORE_UNAVAILABLE', 'The lock store is unavailable; retry later.', true, 5)
        : answer(500, 'LOCK_STORE_MISCONFIGURED', 'Internal error.', true);
    case 'LOCK_LOST':
      return answer(
        500,
        error.code,
        'The lock was lost while the change ran; check the result before retrying.',
        true,
      );
    default:
      return answer(500, 'INTERNAL_ERROR', 'Internal error.', true);
  }
}

function answer(
  status: number,
  code: string,
  message: string,
  isServerFault: boolean,
  retryAfterSeconds?: number,
): LockErrorHttpResponse {
  return retryAfterSeconds === undefined
    ? { status, code, message, isServerFault }
    : { status, code, message, isServerFault, retryAfterSeconds };
}
