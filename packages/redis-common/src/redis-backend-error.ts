import { LockBackendError, LockError } from '@dlock/core';

/** Server replies after which the same command can succeed later (failover, loading, busy script). */
const RETRYABLE_REPLIES = [
  'LOADING',
  'BUSY',
  'TRYAGAIN',
  'CLUSTERDOWN',
  'MASTERDOWN',
  'READONLY',
  'MOVED',
  'ASK',
];

/**
 * What {@link toLockBackendError} names in its message and sets on the error.
 *
 * @example
 * toLockBackendError(error, { backend: 'redis-spin', key: 'stock:42', action: 'acquiring' });
 */
export interface RedisErrorContext {
  /** The backend name set on the error, e.g. `"redis-spin"`. */
  readonly backend: string;
  /** The lock key the call was about. */
  readonly key: string;
  /** What was going on, e.g. "acquiring". */
  readonly action: string;
  /** `host:port` of the server, named in the message. */
  readonly address?: string;
  /** The client was closed by its owner: no retry can help. */
  readonly clientClosed?: boolean;
}

/**
 * Wrap a driver error in a {@link LockBackendError} that keeps it as `cause` and says whether a
 * retry can help: connection problems can, a server error reply (wrong type, unknown command,
 * script error) cannot. dlock's own errors pass through unchanged.
 *
 * @example
 * try { await runLuaScript(...); } catch (error) { throw toLockBackendError(error, { backend, key, action: 'extending' }); }
 */
export function toLockBackendError(error: unknown, context: RedisErrorContext): LockError {
  if (LockError.isInstance(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  const isReply = error instanceof Error && error.name === 'ReplyError';
  const isRetryable = context.clientClosed
    ? false
    : isReply
      ? RETRYABLE_REPLIES.some((prefix) => message.startsWith(prefix))
      : !/subscriber mode|monitoring mode/i.test(message);
  return new LockBackendError(
    `Redis${context.address ? ` at ${context.address}` : ''} failed while ${context.action} lock "${context.key}" ` +
      `(backend "${context.backend}"): ${message}`,
    { backend: context.backend, key: context.key, cause: error, isRetryable },
  );
}
