import { type BackendAcquireRequest, InvalidLockOptionsError, LockBackendError } from '@dlock/core';
import { linkAbortSignals } from './abort-link.js';
import { assertRedisClientUsable, publishCommandFor, type RedisLockClient } from './redis-client.js';
import { assertKeyPrefix, DEFAULT_KEY_PREFIX, redisLockKeys } from './redis-key-layout.js';
import {
  DEFAULT_COMMAND_TIMEOUT_MS,
  DEFAULT_FENCE_RETENTION_MS,
  DEFAULT_HANDOFF_LEASE_MS,
  type RedisLockAttemptOptions,
} from './redis-lock-attempt.js';

/**
 * Validate a duration option: a positive, finite number of milliseconds.
 *
 * @throws InvalidLockOptionsError naming the option.
 * @example
 * assertPositiveMs('minDelayMs', options.minDelayMs, 'redis-spin');
 */
export function assertPositiveMs(name: string, value: unknown, backend: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new InvalidLockOptionsError(
      `${backend}: ${name} must be a positive, finite number of milliseconds (got ${String(value)}).`,
      { backend },
    );
  }
}

/**
 * Resolve after `ms`, or reject with `signal.reason` as soon as `signal` aborts.
 *
 * @example
 * await sleepUnlessAborted(50, request.signal);
 */
export function sleepUnlessAborted(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(
      () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      },
      Math.max(0, ms),
    );
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Options both Redis backends share: where the lock lives and how long its commands may take. */
export interface RedisLockFormatOptions {
  /** Prepended to every Redis name the lock writes. No `{` or `}`. Default `"dlock:"`. */
  readonly keyPrefix?: string;
  /** How long the fencing counter of a key outlives its last acquisition. Default one day. */
  readonly fenceRetentionMs?: number;
  /**
   * Longest wait for one Redis reply (acquire, extend, release) before failing with a retryable
   * `LockBackendError`, so an unreachable Redis cannot hang a caller. Default 5000 ms.
   */
  readonly commandTimeoutMs?: number;
  /**
   * When a release hands the lock to the next queued waiter, the lease that waiter has to pick it
   * up (it then claims it with its own lease). Bounds how long a waiter that died while queued can
   * keep the lock idle. Default 2000 ms.
   */
  readonly handoffLeaseMs?: number;
}

/**
 * {@link RedisLockFormatOptions} with defaults applied and validated.
 *
 * @throws InvalidLockOptionsError naming the bad option.
 * @example
 * const format = resolveRedisLockFormatOptions(options, 'redis-spin');
 */
export function resolveRedisLockFormatOptions(
  options: RedisLockFormatOptions,
  backend: string,
): Required<RedisLockFormatOptions> {
  const keyPrefix = options.keyPrefix ?? DEFAULT_KEY_PREFIX;
  const fenceRetentionMs = options.fenceRetentionMs ?? DEFAULT_FENCE_RETENTION_MS;
  const commandTimeoutMs = options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  const handoffLeaseMs = options.handoffLeaseMs ?? DEFAULT_HANDOFF_LEASE_MS;
  assertKeyPrefix(keyPrefix, backend);
  assertPositiveMs('fenceRetentionMs', fenceRetentionMs, backend);
  assertPositiveMs('commandTimeoutMs', commandTimeoutMs, backend);
  assertPositiveMs('handoffLeaseMs', handoffLeaseMs, backend);
  return { keyPrefix, fenceRetentionMs, commandTimeoutMs, handoffLeaseMs };
}

/**
 * The attempt options for one backend request: the lock's Redis names, its token and lease, the
 * backend's format options and the publish command that fits the client.
 *
 * @example
 * const base = lockAttemptOptions({ client, format, backend: 'redis-spin' }, request, signal);
 * const attempt = await attemptRedisLock({ ...base, deadline });
 */
export function lockAttemptOptions(
  backend: {
    readonly client: RedisLockClient;
    readonly format: Required<RedisLockFormatOptions>;
    readonly name: string;
  },
  request: BackendAcquireRequest,
  signal: AbortSignal,
): RedisLockAttemptOptions {
  const { client, format } = backend;
  return {
    client,
    keys: redisLockKeys(format.keyPrefix, request.key),
    key: request.key,
    token: request.token,
    leaseMs: request.leaseMs,
    backend: backend.name,
    fenceRetentionMs: format.fenceRetentionMs,
    commandTimeoutMs: format.commandTimeoutMs,
    handoffLeaseMs: format.handoffLeaseMs,
    publishCommand: publishCommandFor(client),
    signal,
  };
}

/** A Redis backend as {@link beginRedisAcquire} needs it. */
export interface RedisBackendContext {
  readonly client: RedisLockClient;
  readonly format: Required<RedisLockFormatOptions>;
  readonly name: string;
  /** Aborted by the backend's `close()`. */
  readonly closing: AbortSignal;
}

/**
 * What both Redis backends do first in `acquire()`: refuse if the backend is closed, check the client is still usable, link the
 * caller's signal with the backend's closing signal, and build the attempt options. Call
 * `dispose()` in a `finally`.
 *
 * @example
 * const { base, signal, deadline, dispose } = beginRedisAcquire(context, request);
 * try { ... attemptRedisLock({ ...base, deadline }) ... } finally { dispose(); }
 */
export function beginRedisAcquire(
  context: RedisBackendContext,
  request: BackendAcquireRequest,
): {
  readonly base: RedisLockAttemptOptions;
  readonly signal: AbortSignal;
  readonly deadline: number;
  dispose(): void;
} {
  if (context.closing.aborted) throw redisBackendClosedError(context.name, request.key);
  assertRedisClientUsable(context.client, context.name, request.key);
  const deadline = Date.now() + request.waitMs;
  const link = linkAbortSignals([request.signal, context.closing]);
  const { signal, dispose } = link;
  return { base: lockAttemptOptions(context, request, signal), signal, deadline, dispose };
}

/**
 * The error a closed Redis backend gives: to a new `acquire()`, and to callers still waiting when
 * `close()` ran.
 *
 * @example
 * closing.abort(redisBackendClosedError('redis-spin'));
 */
export function redisBackendClosedError(backend: string, key?: string): LockBackendError {
  return new LockBackendError(`The ${backend} backend is closed; create a new backend.`, {
    backend,
    key,
    isRetryable: false,
  });
}
