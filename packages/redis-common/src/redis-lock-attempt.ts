import { type BackendLock, LockBackendError } from '@dlock/core';
import { LUA_SCRIPTS } from './generated/lua-scripts.js';
import { runLuaScript } from './lua-script.js';
import { toLockBackendError } from './redis-backend-error.js';
import type { RedisLockClient } from './redis-client.js';
import type { RedisLockKeys } from './redis-key-layout.js';

/** Default time the fence key outlives the last acquisition of its lock: one day. */
export const DEFAULT_FENCE_RETENTION_MS = 86_400_000;

/** Default time to wait for the reply to one lock script before failing with a retryable LockBackendError. */
export const DEFAULT_COMMAND_TIMEOUT_MS = 5_000;

/** Default pickup lease of a waiter the lock is handed to. */
export const DEFAULT_HANDOFF_LEASE_MS = 2_000;

/** How the release script publishes: classic pub/sub, or sharded pub/sub on a Redis Cluster. */
export type PublishCommand = 'PUBLISH' | 'SPUBLISH';

export interface RedisLockAttemptOptions {
  readonly client: RedisLockClient;
  readonly keys: RedisLockKeys;
  /** The key as the manager passed it, for error messages. */
  readonly key: string;
  readonly token: string;
  readonly leaseMs: number;
  /** Backend label for errors, e.g. "redis-spin". */
  readonly backend: string;
  readonly fenceRetentionMs?: number;
  /** Pickup lease of a waiter this caller's release hands the lock to. Default 2000 ms. */
  readonly handoffLeaseMs?: number;
  /**
   * If the lock is taken, join its queue for this many ms (a pub/sub waiter). 0 or omitted: never
   * queue (try-once and spin callers), so the attempt only ever takes a free, unclaimed lock.
   */
  readonly queueWaitMs?: number;
  /** Default "PUBLISH". */
  readonly publishCommand?: PublishCommand;
  /**
   * Longest wait for the reply of one script (acquire, extend, release) before rejecting with a
   * retryable `LockBackendError`, so an unreachable Redis (commands sitting in ioredis' offline
   * queue) cannot hang a caller. Default {@link DEFAULT_COMMAND_TIMEOUT_MS}.
   */
  readonly commandTimeoutMs?: number;
  /**
   * Stop waiting for the reply when this aborts (caller gave up, backend closed): the attempt
   * rejects with the signal's reason. If Redis still grants it later, it is released in the
   * background, so an abandoned attempt never strands a lock.
   */
  readonly signal?: AbortSignal;
  /**
   * Epoch ms after which the caller no longer wants the lock: a reply still missing then is
   * abandoned like on abort, and the attempt resolves as not acquired with `deadlinePassed`.
   */
  readonly deadline?: number;
}

/** Outcome of one acquire round trip. */
export type RedisLockAttempt =
  | { readonly acquired: true; readonly lock: BackendLock }
  | {
      readonly acquired: false;
      /** The holder's remaining lease in ms (PTTL), or -1 when unknown (no expiry, no reply). */
      readonly remainingLeaseMs: number;
      /** The reply did not come before `deadline`. */
      readonly deadlinePassed?: boolean;
    };

/**
 * One acquire round trip through the `acquire` script: takes the lock if free and nobody is queued
 * ahead, claims it if it was handed to this token, otherwise (optionally) queues and reports the
 * holder's remaining lease.
 *
 * @example
 * const attempt = await attemptRedisLock({ client, keys: redisLockKeys('dlock:', key), key, token, leaseMs, backend: 'redis-spin' });
 * if (attempt.acquired) return attempt.lock;
 */
export async function attemptRedisLock(options: RedisLockAttemptOptions): Promise<RedisLockAttempt> {
  const { client, keys, token, signal } = options;
  const leaseMs = toRedisMs(options.leaseMs);
  const sentAt = Date.now();
  const reply = runLuaScript(client, LUA_SCRIPTS.acquire, lockScriptKeys(keys), [
    token,
    leaseMs,
    toRedisMs(options.fenceRetentionMs ?? DEFAULT_FENCE_RETENTION_MS),
    options.queueWaitMs && options.queueWaitMs > 0 ? toRedisMs(options.queueWaitMs) : 0,
    toRedisMs(options.handoffLeaseMs ?? DEFAULT_HANDOFF_LEASE_MS),
    options.publishCommand ?? 'PUBLISH',
  ]);
  let raw: unknown;
  try {
    raw = await awaitReply(reply, {
      ...options,
      action: 'acquiring',
      onAbandoned: () => releaseAbandoned(options, reply),
    });
  } catch (error) {
    if (error === DEADLINE_PASSED) return { acquired: false, remainingLeaseMs: -1, deadlinePassed: true };
    if (signal?.aborted && error === signal.reason) throw error;
    throw toLockBackendError(error, {
      backend: options.backend,
      key: options.key,
      action: 'acquiring',
      clientClosed: client.status === 'end',
    });
  }
  const [status, value] = parseAcquireReply(raw);
  if (status === 0) return { acquired: false, remainingLeaseMs: value };
  return { acquired: true, lock: new RedisBackendLock(options, value, sentAt + options.leaseMs) };
}

/** The held lock: extend and release go through the `extend` and `release` scripts. */
class RedisBackendLock implements BackendLock {
  readonly fencingToken: number;
  readonly expiresAt: number;
  readonly #options: RedisLockAttemptOptions;

  constructor(options: RedisLockAttemptOptions, fencingToken: number, expiresAt: number) {
    this.#options = options;
    this.fencingToken = fencingToken;
    this.expiresAt = expiresAt;
  }

  async extend(leaseMs: number): Promise<boolean> {
    const { client, keys, token } = this.#options;
    try {
      const reply = runLuaScript(client, LUA_SCRIPTS.extend, [keys.lock], [token, toRedisMs(leaseMs)]);
      return (await awaitReply(reply, { ...this.#options, signal: undefined, action: 'extending' })) === 1;
    } catch (error) {
      throw toLockBackendError(error, {
        backend: this.#options.backend,
        key: this.#options.key,
        action: 'extending',
        clientClosed: client.status === 'end',
      });
    }
  }

  async release(): Promise<boolean> {
    const { client } = this.#options;
    try {
      const reply = runReleaseScript(this.#options);
      return (await awaitReply(reply, { ...this.#options, signal: undefined, action: 'releasing' })) === 1;
    } catch (error) {
      throw toLockBackendError(error, {
        backend: this.#options.backend,
        key: this.#options.key,
        action: 'releasing',
        clientClosed: client.status === 'end',
      });
    }
  }
}

/** Redis takes whole milliseconds; rounding up keeps the server's expiry at or after the local one. */
function toRedisMs(ms: number): number {
  return Math.max(1, Math.ceil(ms));
}

function parseAcquireReply(raw: unknown): [0 | 1, number] {
  if (
    Array.isArray(raw) &&
    raw.length === 2 &&
    (raw[0] === 0 || raw[0] === 1) &&
    typeof raw[1] === 'number'
  ) {
    return [raw[0], raw[1]];
  }
  throw new TypeError(`Unexpected reply from the acquire script: ${JSON.stringify(raw)}`);
}

const DEADLINE_PASSED = Symbol('deadline passed');

interface AwaitReplyOptions {
  readonly backend: string;
  readonly key: string;
  readonly action: string;
  readonly commandTimeoutMs?: number | undefined;
  readonly signal?: AbortSignal | undefined;
  readonly deadline?: number | undefined;
  readonly onAbandoned?: () => void;
}

/**
 * The reply, unless `signal` aborts first (rejects with its reason), `deadline` passes (rejects
 * with DEADLINE_PASSED) or `commandTimeoutMs` passes (rejects with a retryable LockBackendError).
 * In those cases `onAbandoned` learns that nobody will look at the reply. One timer per call,
 * cleared on settle, so a long wait does not pile up timers.
 */
function awaitReply<T>(promise: Promise<T>, options: AwaitReplyOptions): Promise<T> {
  const { signal, onAbandoned } = options;
  const timeoutMs = options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  if (signal?.aborted) {
    onAbandoned?.();
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const settle = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    const onAbort = () => {
      settle();
      onAbandoned?.();
      reject(signal!.reason);
    };
    const deadlineMs =
      options.deadline === undefined ? Number.POSITIVE_INFINITY : options.deadline - Date.now();
    const deadlineFirst = deadlineMs < timeoutMs;
    const timer = setTimeout(
      () => {
        settle();
        onAbandoned?.();
        if (deadlineFirst) return reject(DEADLINE_PASSED);
        reject(
          new LockBackendError(
            `Redis did not answer within ${timeoutMs} ms while ${options.action} lock "${options.key}" ` +
              `(backend "${options.backend}"); check the connection or raise commandTimeoutMs.`,
            { backend: options.backend, key: options.key, isRetryable: true },
          ),
        );
      },
      Math.max(0, Math.min(timeoutMs, deadlineMs)),
    );
    signal?.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        settle();
        resolve(value);
      },
      (error: unknown) => {
        settle();
        reject(error);
      },
    );
  });
}

/**
 * A queued waiter gives up: leave the queue, and if the lock was handed to it at the last moment,
 * pass it on. Never rejects: if Redis is unreachable, the queue entry expires with the wait.
 *
 * @example
 * await leaveRedisLockQueue(attemptOptions);
 */
export async function leaveRedisLockQueue(options: RedisLockAttemptOptions): Promise<void> {
  await runReleaseScript(options).catch(() => {});
}

function runReleaseScript(options: RedisLockAttemptOptions): Promise<unknown> {
  const { client, keys, token } = options;
  return runLuaScript(client, LUA_SCRIPTS.release, lockScriptKeys(keys), [
    token,
    toRedisMs(options.handoffLeaseMs ?? DEFAULT_HANDOFF_LEASE_MS),
    toRedisMs(options.fenceRetentionMs ?? DEFAULT_FENCE_RETENTION_MS),
    options.publishCommand ?? 'PUBLISH',
  ]);
}

function lockScriptKeys(keys: RedisLockKeys): string[] {
  return [keys.lock, keys.fence, keys.queue, keys.channel];
}

function releaseAbandoned(options: RedisLockAttemptOptions, reply: Promise<unknown>): void {
  // Nobody waits for this reply any more; if it granted the lock, hand it straight back (to the
  // next queued waiter, if any).
  reply.then(
    (raw) => {
      if (Array.isArray(raw) && raw[0] === 1) void leaveRedisLockQueue(options);
    },
    () => {},
  );
}
