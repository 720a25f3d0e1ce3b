import { LockBackendError, type LockError } from '@dlock/core';
import { toLockBackendError } from './redis-backend-error.js';
import type { RedisLockClient } from './redis-client.js';

/** What a failed command was about, for its error: the lock (or read lock, or semaphore) and where. */
export interface RedisCommandSubject {
  readonly key: string;
  readonly backend: string;
  readonly client: RedisLockClient;
  /** How the message names it. Default `lock "<key>"`. */
  readonly noun?: string | undefined;
}

/** Redis did not answer within `commandTimeoutMs` (reachable as far as the client knows). */
export function noAnswerError(
  subject: RedisCommandSubject,
  action: string,
  commandTimeoutMs: number,
  address: string,
): LockBackendError {
  return new LockBackendError(
    `Redis at ${address} did not answer within ${commandTimeoutMs} ms while ${action} ${nounOf(subject)} ` +
      `(backend "${subject.backend}"); check the connection or raise commandTimeoutMs.`,
    { backend: subject.backend, key: subject.key, isRetryable: true },
  );
}

/** The client cannot reach Redis: say where, and keep the connection error as `cause`. */
export function unreachableError(
  subject: RedisCommandSubject,
  action: string,
  cause: Error,
  address: string,
): LockBackendError {
  return new LockBackendError(
    `Redis at ${address} is unreachable (${cause.message}) while ${action} ${nounOf(subject)} ` +
      `(backend "${subject.backend}"); the client keeps reconnecting.`,
    { backend: subject.backend, key: subject.key, isRetryable: true, cause },
  );
}

/** A failed command as a `LockBackendError` naming the address (dlock errors pass through). */
export function commandFailure(
  error: unknown,
  subject: RedisCommandSubject,
  action: string,
  address: string,
): LockError {
  return toLockBackendError(error, {
    backend: subject.backend,
    key: subject.key,
    action,
    address,
    clientClosed: subject.client.status === 'end',
  });
}

function nounOf(subject: RedisCommandSubject): string {
  return subject.noun ?? `lock "${subject.key}"`;
}
