import {
  LockBackendError,
  LockCapacityError,
  LockError,
  LockLostError,
  LockNotAcquiredError,
  LockTimeoutError,
} from '@dlock/core';
import type { ErrorRequestHandler } from 'express';
import type { Logger } from 'pino';
import { CriticalSectionAbortedError } from '../locking/critical-sections.js';
import { InsufficientStockError, ProductNotFoundError } from '../stock/stock-errors.js';
import { ApiError, type ApiErrorBody, type ApiErrorCode } from './api-error.js';

interface ErrorResponse {
  readonly status: number;
  readonly code: ApiErrorCode;
  readonly message: string;
  readonly field?: string;
  readonly retryAfterSeconds?: number;
}

// Driver and TypeORM failures that mean "the database is not reachable", not "the query is wrong".
const CONNECTION_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'PROTOCOL_CONNECTION_LOST',
  'ER_CON_COUNT_ERROR',
  'ER_SERVER_SHUTDOWN',
]);
const CONNECTION_ERROR_NAMES = new Set(['CannotExecuteNotConnectedError', 'ConnectionIsNotSetError']);

/**
 * Map any error to a status and a stable code. Order matters: dlock errors are checked with
 * `isInstance` (works across ESM/CJS copies) before generic ones.
 *
 * @example
 * toErrorResponse(new LockTimeoutError('stock:p-1', 'pubsub', 5000)); // { status: 503, code: 'LOCK_TIMEOUT', ... }
 */
export function toErrorResponse(error: unknown, shuttingDown = false): ErrorResponse {
  if (error instanceof CriticalSectionAbortedError) {
    // Stopped before COMMIT and rolled back by the shutdown: nothing was written, retry elsewhere.
    return {
      status: 503,
      code: 'SHUTTING_DOWN',
      message: 'The server is shutting down; nothing was written; retry.',
      retryAfterSeconds: 1,
    };
  }
  if (
    shuttingDown &&
    (LockBackendError.isInstance(error) || (LockLostError.isInstance(error) && error.cause !== undefined))
  ) {
    // The shutdown closed the lock manager under this request: its wait for a lock was aborted
    // (LockBackendError), or it failed after its locks were released (withLock puts the method's
    // own error in `cause`; a method that succeeded has none). Either way its one transaction did
    // not commit, so the client may safely retry on another instance.
    return {
      status: 503,
      code: 'SHUTTING_DOWN',
      message: 'The server is shutting down; retry.',
      retryAfterSeconds: 1,
    };
  }
  if (error instanceof ApiError) {
    return {
      status: error.status,
      code: error.code,
      message: error.message,
      ...(error.field === undefined ? {} : { field: error.field }),
    };
  }
  if (error instanceof InsufficientStockError)
    return { status: 409, code: 'INSUFFICIENT_STOCK', message: error.message };
  if (error instanceof ProductNotFoundError)
    return { status: 404, code: 'PRODUCT_NOT_FOUND', message: error.message };
  if (LockNotAcquiredError.isInstance(error)) {
    return {
      status: 409,
      code: 'LOCK_NOT_ACQUIRED',
      message: 'Another request for the same resource is in progress.',
    };
  }
  if (LockTimeoutError.isInstance(error)) {
    // The resource is busy, not broken: ask the client to come back shortly.
    return {
      status: 503,
      code: 'LOCK_TIMEOUT',
      message: 'The resource stayed busy; retry shortly.',
      retryAfterSeconds: 1,
    };
  }
  if (LockCapacityError.isInstance(error)) {
    // A limit of THIS process (e.g. the MySQL backend's maxConnections), not an outage: the store is
    // healthy and other servers are unaffected. Say so, so nobody pages the database team.
    return {
      status: 503,
      code: 'LOCK_CAPACITY',
      message: `This server is using all its lock connections (${error.limit}); the lock store is healthy. Retry shortly.`,
      retryAfterSeconds: 1,
    };
  }
  if (LockBackendError.isInstance(error)) {
    return {
      status: 503,
      code: 'STORE_UNAVAILABLE',
      message: 'The lock store is unavailable; retry later.',
      retryAfterSeconds: 5,
    };
  }
  if (LockLostError.isInstance(error)) {
    // The write may or may not have overlapped another holder; a blind retry could apply it twice.
    return {
      status: 500,
      code: 'LOCK_LOST',
      message: 'The lock was lost while the change ran; check the result before retrying.',
    };
  }
  if (LockError.isInstance(error))
    return { status: 500, code: 'INTERNAL_ERROR', message: 'Lock misuse; see server logs.' };
  const clientError = bodyReadError(error);
  if (clientError) return clientError;
  if (isDatabaseDown(error)) {
    return {
      status: 503,
      code: 'STORE_UNAVAILABLE',
      message: 'The database is unavailable; retry later.',
      retryAfterSeconds: 5,
    };
  }
  return { status: 500, code: 'INTERNAL_ERROR', message: 'Internal error.' };
}

/**
 * The last Express middleware: JSON error bodies, `Retry-After` on 503, server errors logged.
 *
 * @example
 * app.use(createErrorHandler(logger, () => context.lifecycle.shuttingDown));
 */
export function createErrorHandler(
  logger: Logger,
  isShuttingDown: () => boolean = () => false,
): ErrorRequestHandler {
  return (error, request, response, _next) => {
    const mapped = toErrorResponse(error, isShuttingDown());
    if (mapped.status >= 500)
      logger.warn({ err: error, method: request.method, url: request.originalUrl }, mapped.code);
    if (mapped.retryAfterSeconds !== undefined)
      response.setHeader('Retry-After', String(mapped.retryAfterSeconds));
    const body: ApiErrorBody = {
      error: {
        code: mapped.code,
        message: mapped.message,
        ...(mapped.field === undefined ? {} : { field: mapped.field }),
      },
    };
    response.status(mapped.status).json(body);
  };
}

/**
 * The body parser's client errors (http-errors with a 4xx `status` and `expose: true`): too large,
 * an unsupported charset or content encoding, a broken gzip stream, malformed JSON. They are the
 * client's mistake: keep their status, name the part of the request at fault, log nothing.
 */
function bodyReadError(error: unknown): ErrorResponse | undefined {
  const { status, expose, type, message } = (error ?? {}) as {
    status?: unknown;
    expose?: unknown;
    type?: unknown;
    message?: unknown;
  };
  if (typeof status !== 'number' || status < 400 || status > 499 || expose !== true) return undefined;
  const detail = typeof message === 'string' ? message : 'unreadable body';
  if (status === 413) {
    return {
      status,
      code: 'PAYLOAD_TOO_LARGE',
      message: `The request body is too large (${detail}).`,
      field: 'body',
    };
  }
  if (status === 415) {
    return {
      status,
      code: 'UNSUPPORTED_MEDIA_TYPE',
      message: `The request body cannot be read: ${detail}.`,
      field: type === 'encoding.unsupported' ? 'content-encoding' : 'content-type',
    };
  }
  const what =
    type === 'entity.parse.failed' ? 'The request body is not valid JSON' : 'The request body cannot be read';
  return { status: 400, code: 'INVALID_INPUT', message: `${what}: ${detail}.`, field: 'body' };
}

function isDatabaseDown(error: unknown): boolean {
  for (let current = error, depth = 0; current && depth < 5; depth++) {
    const { code, name, driverError, cause } = current as {
      code?: unknown;
      name?: unknown;
      driverError?: unknown;
      cause?: unknown;
    };
    if (typeof code === 'string' && CONNECTION_ERROR_CODES.has(code)) return true;
    if (typeof name === 'string' && CONNECTION_ERROR_NAMES.has(name)) return true;
    current = driverError ?? cause;
  }
  return false;
}
