import {
  assertDuration,
  type BackendAcquireRequest,
  type BackendForceReleaseResult,
  type BackendListRequest,
  type BackendLock,
  type BackendLockState,
  type BackendSharedAcquireRequest,
  createClosingController,
  type LockBackend,
  waitOrAbort,
} from '@dlock/core';
import {
  assertRedisClient,
  attemptRedisLock,
  beginRedisAcquire,
  leaveRedisLockQueue,
  type RedisLockClient,
  type RedisLockFormat,
  type RedisLockFormatOptions,
  RedisLockInspector,
  redisBackendClosedError,
  resolveRedisLockFormat,
  takeHandedOverRedisLock,
  toLockBackendError,
} from '@dlock/redis-common';
import {
  type ChannelMembership,
  DEFAULT_SUBSCRIPTION_LINGER_MS,
  ReleaseSubscriptions,
} from './release-subscriptions.js';
import { waitForSharedLock } from './shared-lock-waiter.js';

const BACKEND = 'redis-pubsub';
/**
 * A waiter that took a handed-over lock on its pickup lease claims its own lease this long after
 * (unless it released first): most critical sections are over by then and never pay the claim.
 */
const CLAIM_AFTER_MS = 20;

/**
 * Options of {@link RedisPubSubLockBackend}: the shared Redis format options plus how waiters sleep.
 *
 * @example
 * const pubsub = new RedisPubSubLockBackend(redis, { keyPrefix: 'shop:dlock:', subscriptionLingerMs: 5_000 });
 */
export interface RedisPubSubLockBackendOptions extends RedisLockFormatOptions {
  /**
   * Longest sleep without a handoff message before a waiter checks again: a safety net for a
   * message lost in transit and for holders without expiry. Normally a waiter sleeps until the
   * message naming it, or until the holder's lease ends (a crashed holder never releases).
   * Default: half of `handoffLeaseMs` (1000 ms), so a waiter whose handoff message was lost
   * still claims the lock before its pickup lease runs out. A larger value saves one re-check
   * per waiter per `maxSleepMs` while a lock is held long, at the price of losing such a turn.
   */
  readonly maxSleepMs?: number | undefined;
  /**
   * How long a key's channel stays subscribed after its last local waiter left, so the next waiter
   * of this process for the key skips SUBSCRIBE/UNSUBSCRIBE. Default 1000 ms.
   */
  readonly subscriptionLingerMs?: number | undefined;
}

/**
 * Redis lock backend that waits on pub/sub (Redisson style), fairly: a waiter joins the key's queue
 * in Redis and sleeps; a release hands the lock straight to the waiter at the head of the queue and
 * publishes its token, which wakes exactly that waiter. Redis load per acquisition stays constant
 * however many servers wait, and nobody barges past a queued waiter. Same keys and scripts as
 * `RedisSpinLockBackend`, so both can be mixed on one key.
 *
 * Opens one extra connection (`redis.duplicate()`) for subscriptions on the first wait, and closes
 * it in `close()`. On a Redis Cluster it uses sharded pub/sub (`SSUBSCRIBE`/`SPUBLISH`, Redis 7+):
 * its subscriber is a duplicate of your `Cluster` with `shardedSubscribers: true` (one connection per
 * master), whatever your own client's setting. The client you pass stays yours.
 *
 * @example
 * import { Redis } from 'ioredis';
 * const pubsub = new RedisPubSubLockBackend(new Redis(process.env.REDIS_URL));
 * const manager = new LockManager({ backends: { pubsub } });
 */
export class RedisPubSubLockBackend implements LockBackend {
  readonly #client: RedisLockClient;
  readonly #format: RedisLockFormat;
  readonly #inspector: RedisLockInspector;
  readonly #maxSleepMs: number;
  readonly #subscriptions: ReleaseSubscriptions;
  readonly #closing = createClosingController();

  constructor(redis: RedisLockClient, options: RedisPubSubLockBackendOptions = {}) {
    assertRedisClient(redis, BACKEND);
    const format = resolveRedisLockFormat(redis, options, BACKEND);
    const rule = { backend: BACKEND };
    const maxSleepMs = assertDuration(
      'maxSleepMs',
      options.maxSleepMs ?? format.settings.handoffLeaseMs / 2,
      rule,
    );
    const lingerMs = assertDuration(
      'subscriptionLingerMs',
      options.subscriptionLingerMs ?? DEFAULT_SUBSCRIPTION_LINGER_MS,
      rule,
    );
    this.#client = redis;
    this.#format = format;
    this.#inspector = new RedisLockInspector(redis, format);
    this.#maxSleepMs = maxSleepMs;
    this.#subscriptions = new ReleaseSubscriptions(redis, lingerMs);
  }

  /** Channels subscribed right now: one per key that a local caller waits (or just waited) for. */
  get subscribedChannelCount(): number {
    return this.#subscriptions.channelCount;
  }

  async acquire(request: BackendAcquireRequest): Promise<BackendLock | null> {
    const { target, signal, deadline, dispose } = beginRedisAcquire(
      { client: this.#client, format: this.#format, name: BACKEND, closing: this.#closing.signal },
      request,
    );
    const waits = request.waitMs > 0;
    // Queue for what is left of the wait; a reply still missing at the deadline is abandoned (and
    // handed on if it won). The first attempt passes the whole wait, not a re-measured remainder,
    // so callers that wait equally long keep their arrival order in the queue.
    const attempt = (first: boolean) =>
      attemptRedisLock(target, {
        leaseMs: request.leaseMs,
        queueWaitMs: first ? request.waitMs : Math.max(0, deadline - Date.now()),
        signal,
        deadline: !waits ? undefined : first ? deadline : Math.max(deadline, Date.now() + 1),
      });
    const { channel } = target.keys;

    // If this process already listens on the key's channel (another waiter, or the linger after
    // one), register before the first attempt is sent, so a handoff right after it reaches us.
    // Otherwise attempt first (an uncontended caller never subscribes) and re-check once subscribed.
    let membership: ChannelMembership | undefined =
      waits && this.#subscriptions.confirmedEntry(channel)
        ? this.#subscriptions.join(channel, request.token)
        : undefined;
    let acquired = false;
    try {
      // Try-once: exactly one round trip. A waiting caller joins the queue in the same round trip.
      const firstSentAt = Date.now();
      const first = await attempt(true);
      if (first.acquired) {
        acquired = true;
        return first.lock;
      }
      if (!waits) return null;
      request.onContended?.();

      let recheck = false;
      if (!membership) {
        membership = this.#subscriptions.join(channel, request.token);
        recheck = true;
        if (!(await this.#untilSubscribed(membership, request.key, signal, deadline))) return null;
      }
      let fallbackMs = first.remainingLeaseMs;
      for (;;) {
        if (!recheck) {
          const remaining = deadline - Date.now();
          if (remaining <= 0) return null;
          // A holder that crashed never releases: wake when its lease ends at the latest. And
          // re-check at least every maxSleepMs (half the pickup lease by default), so a handoff
          // message lost in transit costs less than the pickup lease it came with.
          const napMs = Math.min(
            remaining,
            this.#maxSleepMs,
            fallbackMs >= 0 ? fallbackMs + 1 : this.#maxSleepMs,
          );
          await membership.waiter.sleep(napMs, signal);
        }
        recheck = false;
        membership.waiter.consume();
        // A handoff message naming us proves the lock is ours on its pickup lease: start now and
        // claim the full lease in the background (skipped when the section ends first).
        const handoffFence = membership.takeHandoffFence();
        if (handoffFence !== undefined) {
          const handed = takeHandedOverRedisLock(target, {
            fencingToken: handoffFence,
            firstSentAt,
            leaseMs: request.leaseMs,
            claimAfterMs: CLAIM_AFTER_MS,
          });
          if (handed) {
            acquired = true;
            return handed;
          }
        }
        // Claims the lock if it was handed to us; takes it if free and we are next; else re-queues.
        const result = await attempt(false);
        if (result.acquired) {
          acquired = true;
          return result.lock;
        }
        if (!result.deadlinePassed) fallbackMs = result.remainingLeaseMs;
        if (deadline - Date.now() <= 0) return null;
      }
    } finally {
      membership?.leave();
      dispose();
      // Leave the queue, passing on a lock handed to us at the last moment (one round trip, only
      // for a caller that gave up, timed out or failed while queued).
      if (!acquired && waits) void leaveRedisLockQueue(target);
    }
  }

  /** Who holds `key`, its lease, fencing token and queued waiters (one `MULTI` round trip). */
  async inspect(key: string): Promise<BackendLockState> {
    return this.#inspector.inspect(key);
  }

  /** Held locks whose key starts with `request.prefix`, read with bounded `SCAN` (never `KEYS`). */
  async list(request: BackendListRequest): Promise<BackendLockState[]> {
    return this.#inspector.list(request);
  }

  /** Free `key` whoever holds it, as its holder's release would (queued waiters are served). */
  async forceRelease(key: string): Promise<BackendForceReleaseResult> {
    return this.#inspector.forceRelease(key);
  }
  /**
   * A read lock of a key (excluding its write lock, the plain lock, whichever backend takes it) or
   * a semaphore permit, waited for fairly on pub/sub: see `waitForSharedLock`.
   */
  async acquireShared(request: BackendSharedAcquireRequest): Promise<BackendLock | null> {
    const call = beginRedisAcquire(
      { client: this.#client, format: this.#format, name: BACKEND, closing: this.#closing.signal },
      request,
    );
    try {
      return await waitForSharedLock(
        { backend: BACKEND, subscriptions: this.#subscriptions, maxSleepMs: this.#maxSleepMs },
        call,
        request,
      );
    } finally {
      call.dispose();
    }
  }

  /** Stop waiting callers (they reject) and close the subscriber connection. */
  async close(): Promise<void> {
    this.#closing.abort(redisBackendClosedError(BACKEND));
    this.#subscriptions.close();
  }

  /** Wait for the SUBSCRIBE reply; false if the deadline came first. */
  async #untilSubscribed(
    membership: ChannelMembership,
    key: string,
    signal: AbortSignal,
    deadline: number,
  ): Promise<boolean> {
    const deadlinePassed = Symbol('deadline passed');
    try {
      await waitOrAbort(membership.entry.subscribed, {
        signal,
        timeoutMs: deadline - Date.now(),
        timeoutError: () => deadlinePassed,
      });
      return true;
    } catch (error) {
      if (error === deadlinePassed) return false;
      if (signal.aborted) throw signal.reason;
      throw toLockBackendError(error, {
        backend: BACKEND,
        key,
        action: 'subscribing to the release channel of',
      });
    }
  }
}
