import { LockBackendError, LockCapacityError, LockError } from '@dlock/core';
import { BACKEND } from './mysql-lock-options.js';

/** MySQL 8: `GET_LOCK` would close a wait-for cycle between sessions holding named locks. */
export const ER_USER_LOCK_DEADLOCK = 3058;
/** MySQL 8: the lock name is empty or longer than 64 characters. */
const ER_USER_LOCK_WRONG_NAME = 3057;
/** The server refused a new connection: `max_connections` reached. */
export const ER_CON_COUNT_ERROR = 1040;
/** The server refused a new connection: the user's `max_user_connections` reached. */
export const ER_TOO_MANY_USER_CONNECTIONS = 1203;
const ER_LOCK_DEADLOCK = 1213;
const ER_QUERY_INTERRUPTED = 1317;
const ER_CONNECTION_KILLED = 1927;
const ER_SERVER_SHUTDOWN = 1053;

const GONE_CODES = new Set([
  'PROTOCOL_CONNECTION_LOST',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ER_CONNECTION_KILLED',
]);

interface DriverErrorShape {
  readonly code?: unknown;
  readonly errno?: unknown;
  readonly fatal?: unknown;
  readonly message?: unknown;
}

function shape(error: unknown): DriverErrorShape {
  return typeof error === 'object' && error !== null ? (error as DriverErrorShape) : {};
}

/**
 * True when the error means the connection (and with it the session and its named locks) is gone:
 * mysql2 marks such errors `fatal`, and a killed or closed connection reports one of a few codes.
 *
 * @example
 * if (isConnectionGone(error)) return false; // the server dropped the lock with the session
 */
export function isConnectionGone(error: unknown): boolean {
  const { code, errno, fatal, message } = shape(error);
  return (
    fatal === true ||
    (typeof code === 'string' && GONE_CODES.has(code)) ||
    errno === ER_CONNECTION_KILLED ||
    errno === ER_SERVER_SHUTDOWN ||
    (typeof message === 'string' && /closed state|connection is closed|Connection lost/i.test(message))
  );
}

export interface MySqlErrorContext {
  readonly key: string;
  /** What was going on, e.g. "acquiring". */
  readonly action: string;
}

/**
 * Wrap a driver error in a {@link LockBackendError} that keeps it as `cause`, names the lock and
 * says whether a retry can help. dlock's own errors pass through unchanged.
 *
 * @example
 * try { await connection.query(sql, parameters); }
 * catch (error) { throw toMySqlBackendError(error, { key, action: 'releasing' }); }
 */
export function toMySqlBackendError(error: unknown, context: MySqlErrorContext): LockError {
  if (LockError.isInstance(error)) return error;
  const { errno, code } = shape(error);
  const detail = error instanceof Error ? error.message : String(error);
  const where = `lock "${context.key}" (backend "${BACKEND}")`;
  if (errno === ER_USER_LOCK_DEADLOCK || errno === ER_LOCK_DEADLOCK) {
    return new LockBackendError(
      `MySQL refused ${context.action} ${where}: waiting would deadlock with another session's named locks (${detail}). ` +
        'Acquire several keys in one call (one deterministic order) instead of nesting locks in different orders.',
      { backend: BACKEND, key: context.key, cause: error, isRetryable: true },
    );
  }
  if (errno === ER_USER_LOCK_WRONG_NAME) {
    return new LockBackendError(`MySQL rejected the lock name of ${where}: ${detail}`, {
      backend: BACKEND,
      key: context.key,
      cause: error,
      isRetryable: false,
    });
  }
  if (
    errno === ER_CON_COUNT_ERROR ||
    errno === ER_TOO_MANY_USER_CONNECTIONS ||
    code === 'ER_CON_COUNT_ERROR' ||
    code === 'ER_TOO_MANY_USER_CONNECTIONS'
  ) {
    // mysql2 marks these fatal (the handshake failed), which would read as "retryable"; but they are
    // a configured ceiling, and callers retrying into a full server only keep it full.
    return new LockBackendError(
      `MySQL refused a new connection while ${context.action} ${where}: ${detail}. The server's ` +
        "max_connections (or the user's max_user_connections) is reached: lower the lock DataSource's " +
        'poolSize and maxConnections, or raise the server limit.',
      { backend: BACKEND, key: context.key, cause: error, isRetryable: false },
    );
  }
  if (errno === ER_QUERY_INTERRUPTED) {
    return new LockBackendError(`MySQL interrupted ${context.action} ${where} (KILL QUERY?): ${detail}`, {
      backend: BACKEND,
      key: context.key,
      cause: error,
      isRetryable: true,
    });
  }
  // A server error reply (access denied, unknown table...) repeats on retry; a network failure may not.
  const retryable = isConnectionGone(error) || !(typeof code === 'string' && code.startsWith('ER_'));
  return new LockBackendError(`MySQL failed while ${context.action} ${where}: ${detail}`, {
    backend: BACKEND,
    key: context.key,
    cause: error,
    isRetryable: retryable,
  });
}

/**
 * Why `createLockDataSource` could not start, as a {@link LockBackendError} that keeps the error as
 * `cause`. The network failing on the way (ECONNRESET, EPIPE, ETIMEDOUT, ECONNREFUSED,
 * PROTOCOL_CONNECTION_LOST...) may pass, so a retry can help; a refusal by the server (wrong
 * password, unknown database, too many connections) repeats on every retry until someone fixes it.
 *
 * @example
 * try { return await dataSource.initialize(); }
 * catch (error) { throw lockDataSourceStartFailed(error, '127.0.0.1:3306'); }
 */
export function lockDataSourceStartFailed(error: unknown, address: string): LockBackendError {
  const { code, errno } = shape(error);
  const detail = error instanceof Error ? error.message : String(error);
  // A killed session or a server going down is an ER_ reply too, but says nothing about the next try.
  const sessionEnded = errno === ER_CONNECTION_KILLED || errno === ER_SERVER_SHUTDOWN;
  const serverRefused = typeof code === 'string' && code.startsWith('ER_') && !sessionEnded;
  const advice = serverRefused
    ? "The server refused it: retrying will not help until the URL's user, password or database (or the server's limits) are fixed."
    : 'Nothing was left open, and the failure was not a refusal by the server: calling createLockDataSource again may succeed.';
  return new LockBackendError(
    `The lock DataSource (backend "${BACKEND}") could not connect to MySQL at ${address}: ${detail}. ${advice}`,
    { backend: BACKEND, cause: error, isRetryable: !serverRefused },
  );
}

/**
 * `GET_LOCK` returned `NULL`: the server hit an error or the session was interrupted
 * (`KILL QUERY`) while it waited. Not a "held by someone else" answer, so it must not look like one.
 *
 * @example
 * if (result === null) throw getLockReturnedNull(key);
 */
export function getLockReturnedNull(key: string): LockBackendError {
  return new LockBackendError(
    `GET_LOCK returned NULL for lock "${key}" (backend "${BACKEND}"): the server interrupted the wait ` +
      '(KILL QUERY, shutdown, out of memory). Nothing was acquired; retry later.',
    { backend: BACKEND, key, isRetryable: true },
  );
}

/** Every connection slot of this backend is taken: a local limit, not a database failure. */
export function slotsExhausted(key: string, capacity: number, waitMs: number): LockCapacityError {
  return new LockCapacityError(
    `All ${capacity} lock connections of backend "${BACKEND}" are in use by this process (maxConnections), ` +
      `so lock "${key}" could not even be tried${waitMs > 0 ? ` within ${Math.round(waitMs)} ms` : ''}. ` +
      'This is a local limit of this process, not a database failure: raise maxConnections together with the ' +
      'pool size of the lock DataSource, or release locks sooner.',
    { backend: BACKEND, key, limit: 'maxConnections' },
  );
}

/** The backend was closed: it takes no more calls. */
export function closedError(key?: string): LockBackendError {
  return new LockBackendError('MySqlNamedLockBackend is closed; create a new backend.', {
    backend: BACKEND,
    key,
    isRetryable: false,
  });
}
