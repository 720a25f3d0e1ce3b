import {
  type AbortLinks,
  assertDuration,
  type BackendAcquireRequest,
  InvalidLockOptionsError,
  LockBackendError,
  linkAbortSignals,
} from '@dlock/core';
import { assertRedisClientUsable, publishCommandFor, type RedisLockClient } from './redis-client.js';
import { RedisConnectionHealth } from './redis-connection-health.js';
import { assertKeyPrefix, DEFAULT_KEY_PREFIX, redisLockKeys } from './redis-key-layout.js';
import {
  DEFAULT_COMMAND_TIMEOUT_MS,
  DEFAULT_FENCE_RETENTION_MS,
  DEFAULT_HANDOFF_LEASE_MS,
  type RedisLockScriptSettings,
  type RedisLockTarget,
} from './redis-lock-attempt.js';
import { encodeRedisOwner } from './redis-owner-record.js';

/** Options both Redis backends share: where the lock lives and how long its commands may take. */
export interface RedisLockFormatOptions {
  /** Prepended to every Redis name the lock writes. No `{` or `}`. Default `"dlock:"`. */
  readonly keyPrefix?: string | undefined;
  /**
   * How long a released lock keeps its last fencing token in Redis (a small tombstone under the
   * lock key), guarding token order against the Redis server clock stepping back by up to that
   * much. Default 0: the key is deleted at release and the next token is seeded from the server
   * clock (µs), so a lock nobody holds uses no Redis memory.
   */
  readonly fenceRetentionMs?: number | undefined;
  /**
   * Longest wait for one Redis reply (acquire, extend, release) before failing with a retryable
   * `LockBackendError`, so an unreachable Redis cannot hang a caller. Default 5000 ms.
   */
  readonly commandTimeoutMs?: number | undefined;
  /**
   * When a release hands the lock to the next queued waiter, the lease that waiter has to pick it
   * up (it then claims it with its own lease). Bounds how long a waiter that died while queued can
   * keep the lock idle. Default 2000 ms.
   */
  readonly handoffLeaseMs?: number | undefined;
  /**
   * Record who holds each lock (host, pid, `appName`, label, acquired-at) in the lock value itself,
   * after the holder's token, written by the acquire script in the same `SET` that takes the lock,
   * for `manager.inspect()`, the `dlock` CLI and the lock page. Default `true`. It costs no extra
   * command to take, queue for, extend or release a lock, only the record's bytes in the lock value
   * (about 130 bytes of Redis memory per held lock for a ~90-byte record) and in a pub/sub waiter's
   * queue entry, from which a handoff writes it into the lock value. `false` writes none of it:
   * `inspect` then shows the lease, fence and waiters but no owner.
   */
  readonly recordOwner?: boolean | undefined;
}

/** {@link RedisLockFormatOptions} resolved for one client: the prefix plus the script settings. */
export interface RedisLockFormat {
  readonly keyPrefix: string;
  readonly settings: RedisLockScriptSettings;
}

/**
 * {@link RedisLockFormatOptions} with defaults applied and validated, for `client`.
 *
 * @throws InvalidLockOptionsError naming the bad option.
 * @example
 * const format = resolveRedisLockFormat(redis, options, 'redis-spin');
 */
export function resolveRedisLockFormat(
  client: RedisLockClient,
  options: RedisLockFormatOptions,
  backend: string,
): RedisLockFormat {
  const keyPrefix = options.keyPrefix ?? DEFAULT_KEY_PREFIX;
  assertKeyPrefix(keyPrefix, backend);
  // Listen from now on, so the first failed call can already name the connection error.
  RedisConnectionHealth.of(client);
  const rule = { backend };
  return {
    keyPrefix,
    settings: {
      fenceRetentionMs: assertDuration(
        'fenceRetentionMs',
        options.fenceRetentionMs ?? DEFAULT_FENCE_RETENTION_MS,
        { ...rule, allowZero: true },
      ),
      commandTimeoutMs: assertDuration(
        'commandTimeoutMs',
        options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS,
        rule,
      ),
      handoffLeaseMs: assertDuration(
        'handoffLeaseMs',
        options.handoffLeaseMs ?? DEFAULT_HANDOFF_LEASE_MS,
        rule,
      ),
      publishCommand: publishCommandFor(client),
      recordOwner: assertRecordOwner(options.recordOwner, backend),
    },
  };
}

/** A Redis backend as {@link beginRedisAcquire} needs it. */
export interface RedisBackendContext {
  readonly client: RedisLockClient;
  readonly format: RedisLockFormat;
  readonly name: string;
  /** Aborted by the backend's `close()`. */
  readonly closing: AbortSignal;
  /**
   * Links callers' signals with `closing`, keeping the link of the last one (a manager's calls
   * share one signal): without it, every call links its own.
   */
  readonly links?: AbortLinks | undefined;
}

/** What one acquire call works with; `dispose()` it in a `finally`. */
export interface RedisAcquireCall {
  /** The lock this call is about; a lock it takes keeps only this. */
  readonly target: RedisLockTarget;
  /** The caller's signal linked with the backend's closing signal. */
  readonly signal: AbortSignal;
  /** Epoch ms when the caller's wait is over. */
  readonly deadline: number;
  /** Drop the listeners this call linked to the caller's signal. Call it once, in a `finally`. */
  dispose(): void;
}

/**
 * What both Redis backends do first in `acquire()`: refuse if the backend is closed or the request
 * is malformed, check the client is still usable, link the caller's signal with the backend's
 * closing signal, and name the lock.
 *
 * @example
 * const call = beginRedisAcquire(context, request);
 * try { ... attemptRedisLock(call.target, { leaseMs, signal: call.signal }) ... } finally { call.dispose(); }
 */
export function beginRedisAcquire(
  context: RedisBackendContext,
  request: BackendAcquireRequest,
): RedisAcquireCall {
  if (context.closing.aborted) throw redisBackendClosedError(context.name, request.key);
  // A request may come from a third-party caller, not only from LockManager: check it here too.
  assertDuration('leaseMs', request.leaseMs, { backend: context.name });
  assertDuration('waitMs', request.waitMs, { backend: context.name, allowZero: true });
  assertRedisClientUsable(context.client, context.name, request.key);
  // The lock value is "<fence>:<flag>:<token>\n<record>": a token with a newline could never be
  // told from its record, so its holder could never extend or release the lock.
  if (typeof request.token !== 'string' || request.token === '' || request.token.includes('\n')) {
    throw new InvalidLockOptionsError(
      `The owner token must be a non-empty string without a newline (backend "${context.name}").`,
      { backend: context.name },
    );
  }
  const { signal, dispose } = context.links
    ? context.links.link(request.signal)
    : linkAbortSignals([request.signal, context.closing]);
  return {
    target: {
      client: context.client,
      keys: redisLockKeys(context.format.keyPrefix, request.key),
      key: request.key,
      token: request.token,
      ownerRecord: context.format.settings.recordOwner ? encodeRedisOwner(request.owner) : '',
      backend: context.name,
      settings: context.format.settings,
    },
    signal,
    deadline: Date.now() + request.waitMs,
    dispose,
  };
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

function assertRecordOwner(value: unknown, backend: string): boolean {
  if (value === undefined) return true;
  if (typeof value !== 'boolean') {
    throw new InvalidLockOptionsError(
      `${backend}: recordOwner must be true or false (got ${JSON.stringify(value)}); the default is true.`,
      { backend },
    );
  }
  return value;
}
