import {
  type BackendAcquireRequest,
  type BackendLock,
  type LockBackend,
  LockBackendError,
} from '@dlock/core';
import {
  assertPositiveMs,
  assertRedisClient,
  assertRedisClientUsable,
  attemptRedisLock,
  linkAbortSignals,
  type RedisLockClient,
  type RedisLockFormatOptions,
  redisLockKeys,
  resolveRedisLockFormatOptions,
  toLockBackendError,
} from '@dlock/redis-common';
import { type ChannelMembership, ReleaseSubscriptions } from './release-subscriptions.js';

const BACKEND = 'redis-pubsub';

export interface RedisPubSubLockBackendOptions extends RedisLockFormatOptions {
  /**
   * Longest sleep without a release message before re-trying, for a holder whose key has no
   * expiry. Normally a waiter sleeps until a release message or the holder's remaining lease
   * (a crashed holder never publishes). Default 1000 ms.
   */
  readonly maxSleepMs?: number;
}

/**
 * Redis lock backend that waits on pub/sub (Redisson style): a waiter subscribes to the key's
 * release channel and sleeps until the holder's release script publishes, or until the holder's
 * lease runs out. Redis load stays flat however many servers wait. Same keys and scripts as
 * `RedisSpinLockBackend`, so both can be mixed on one key.
 *
 * Opens one extra connection (`redis.duplicate()`) for subscriptions on the first wait, and closes
 * it in `close()`. The client you pass stays yours.
 *
 * @example
 * import { Redis } from 'ioredis';
 * const pubsub = new RedisPubSubLockBackend(new Redis(process.env.REDIS_URL));
 * const manager = new LockManager({ backends: { pubsub } });
 */
export class RedisPubSubLockBackend implements LockBackend {
  readonly #client: RedisLockClient;
  readonly #format: Required<RedisLockFormatOptions>;
  readonly #maxSleepMs: number;
  readonly #subscriptions: ReleaseSubscriptions;
  readonly #closing = new AbortController();

  constructor(redis: RedisLockClient, options: RedisPubSubLockBackendOptions = {}) {
    assertRedisClient(redis, BACKEND);
    const format = resolveRedisLockFormatOptions(options, BACKEND);
    const maxSleepMs = options.maxSleepMs ?? 1_000;
    assertPositiveMs('maxSleepMs', maxSleepMs, BACKEND);
    this.#client = redis;
    this.#format = format;
    this.#maxSleepMs = maxSleepMs;
    this.#subscriptions = new ReleaseSubscriptions(redis);
  }

  /** Channels subscribed right now: one per key that a local caller waits for. */
  get subscribedChannelCount(): number {
    return this.#subscriptions.channelCount;
  }

  async acquire(request: BackendAcquireRequest): Promise<BackendLock | null> {
    if (this.#closing.signal.aborted) throw closedError(request.key);
    assertRedisClientUsable(this.#client, BACKEND, request.key);
    const deadline = Date.now() + request.waitMs;
    const link = linkAbortSignals([request.signal, this.#closing.signal]);
    const { signal } = link;
    const keys = redisLockKeys(this.#format.keyPrefix, request.key);
    const attempt = (attemptDeadline?: number) =>
      attemptRedisLock({
        client: this.#client,
        keys,
        key: request.key,
        token: request.token,
        leaseMs: request.leaseMs,
        backend: BACKEND,
        fenceRetentionMs: this.#format.fenceRetentionMs,
        commandTimeoutMs: this.#format.commandTimeoutMs,
        signal,
        deadline: attemptDeadline,
      });

    let membership: ChannelMembership | undefined;
    let acquired = false;
    try {
      // Try-once: exactly one round trip.
      const first = await attempt();
      if (first.acquired) return first.lock;
      if (request.waitMs <= 0) return null;
      request.onContended?.();

      membership = this.#subscriptions.join(keys.channel);
      if (!(await this.#untilSubscribed(membership, request.key, signal, deadline))) return null;
      let remainingLeaseMs = first.remainingLeaseMs;
      for (;;) {
        // The first pass is the re-check after subscribing: a release that happened between the
        // failed attempt and the subscription published to nobody.
        membership.waiter.consumeWake();
        // A reply still missing at the deadline is abandoned (and handed back if it won).
        const result = await attempt(Math.max(deadline, Date.now() + 1));
        if (result.acquired) {
          acquired = true;
          return result.lock;
        }
        if (!result.deadlinePassed) remainingLeaseMs = result.remainingLeaseMs;
        const remaining = deadline - Date.now();
        if (remaining <= 0) return null;
        // Fallback timer: a holder that crashed never publishes, so wake when its lease ends.
        const fallbackMs = remainingLeaseMs >= 0 ? remainingLeaseMs + 1 : this.#maxSleepMs;
        await membership.waiter.sleep(Math.min(remaining, fallbackMs), signal);
      }
    } finally {
      membership?.leave(acquired);
      link.dispose();
    }
  }

  /** Stop waiting callers (they reject) and close the subscriber connection. */
  async close(): Promise<void> {
    this.#closing.abort(closedError());
    this.#subscriptions.close();
  }

  /** Wait for the SUBSCRIBE reply; false if the deadline came first. */
  async #untilSubscribed(
    membership: ChannelMembership,
    key: string,
    signal: AbortSignal,
    deadline: number,
  ): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const deadlinePassed = Symbol('deadline passed');
    try {
      await Promise.race([
        membership.subscribed,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(deadlinePassed), Math.max(0, deadline - Date.now()));
          onAbort = () => reject(signal.reason);
          if (signal.aborted) onAbort();
          signal.addEventListener('abort', onAbort, { once: true });
        }),
      ]);
      return true;
    } catch (error) {
      if (error === deadlinePassed) return false;
      if (signal.aborted) throw signal.reason;
      throw toLockBackendError(error, {
        backend: BACKEND,
        key,
        action: 'subscribing to the release channel of',
      });
    } finally {
      clearTimeout(timer);
      if (onAbort) signal.removeEventListener('abort', onAbort);
    }
  }
}

function closedError(key?: string): LockBackendError {
  return new LockBackendError('RedisPubSubLockBackend is closed; create a new backend.', {
    backend: BACKEND,
    key,
    isRetryable: false,
  });
}
