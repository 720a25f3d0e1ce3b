import {
  assertDuration,
  type BackendAcquireRequest,
  type BackendForceReleaseResult,
  type BackendListRequest,
  type BackendLock,
  type BackendLockState,
  type BackendSharedAcquireRequest,
  type LockBackend,
} from '@dlock/core';
import {
  attemptRedisLock,
  attemptRedisSharedLock,
  leaveRedisLockQueue,
  leaveRedisSharedLock,
  type RedisAcquireAttempt,
  type RedisAcquireCall,
  RedisBackendCore,
  type RedisLockAttempt,
  type RedisLockClient,
  type RedisLockFormatOptions,
  type RedisLockTarget,
  redisSharedLockTarget,
  takeGrantedRedisPermit,
  takeHandedOverRedisLock,
} from '@dlock/redis-common';
import { type QueuedHold, type QueueWaitParts, waitInQueue } from './queue-waiter.js';
import { DEFAULT_SUBSCRIPTION_LINGER_MS, ReleaseSubscriptions } from './release-subscriptions.js';

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
  readonly #core: RedisBackendCore;
  readonly #maxSleepMs: number;
  readonly #subscriptions: ReleaseSubscriptions;
  /** What every wait needs from this backend, made once. */
  readonly #parts: QueueWaitParts;

  constructor(redis: RedisLockClient, options: RedisPubSubLockBackendOptions = {}) {
    const core = new RedisBackendCore(redis, options, BACKEND);
    const rule = { backend: BACKEND };
    const maxSleepMs = assertDuration(
      'maxSleepMs',
      options.maxSleepMs ?? core.format.settings.handoffLeaseMs / 2,
      rule,
    );
    const lingerMs = assertDuration(
      'subscriptionLingerMs',
      options.subscriptionLingerMs ?? DEFAULT_SUBSCRIPTION_LINGER_MS,
      rule,
    );
    this.#core = core;
    this.#maxSleepMs = maxSleepMs;
    this.#subscriptions = new ReleaseSubscriptions(redis, lingerMs);
    this.#parts = { backend: BACKEND, subscriptions: this.#subscriptions, maxSleepMs };
  }

  /** Channels subscribed right now: one per key that a local caller waits (or just waited) for. */
  get subscribedChannelCount(): number {
    return this.#subscriptions.channelCount;
  }

  acquire(request: BackendAcquireRequest): Promise<BackendLock | null> {
    // Not async (#wait is, and never throws): an async wrapper cost the call two ticks. The hold is
    // one object, not five closures: an uncontended call uses only its first attempt.
    return this.#wait(request, (target) => new QueuedRedisLock(target, request));
  }

  /** Who holds `key`, its lease, fencing token and queued waiters (one `MULTI` round trip). */
  async inspect(key: string): Promise<BackendLockState> {
    return this.#core.inspector.inspect(key);
  }

  /** Held locks whose key starts with `request.prefix`, read with bounded `SCAN` (never `KEYS`). */
  async list(request: BackendListRequest): Promise<BackendLockState[]> {
    return this.#core.inspector.list(request);
  }

  /** Free `key` whoever holds it, as its holder's release would (queued waiters are served). */
  async forceRelease(key: string): Promise<BackendForceReleaseResult> {
    return this.#core.inspector.forceRelease(key);
  }
  /**
   * A read lock of a key (excluding its write lock, the plain lock, whichever backend takes it) or
   * a semaphore permit, waited for fairly on pub/sub: the caller joins the key's queue in Redis in
   * its first attempt and sleeps; a release admits the waiters that can proceed now (all readers
   * queued back to back, or as many permit waiters as permits came free) and publishes one message
   * naming each, which wakes exactly those. A reader then claims its hold in one round trip; a
   * permit waiter starts at once on its pickup lease and claims the full lease in the background,
   * as a lock's waiter does.
   */
  async acquireShared(request: BackendSharedAcquireRequest): Promise<BackendLock | null> {
    return this.#wait(request, (lock) => {
      const target = redisSharedLockTarget(lock, request.kind);
      return {
        channel: target.channel,
        member: target.member,
        attempt: (attempt) => attemptRedisSharedLock(target, attempt),
        // A grant naming us proves the permit is ours on its pickup lease, as for a lock.
        takeHandoff: (fencingToken, firstSentAt) =>
          takeGrantedRedisPermit(target, {
            fencingToken,
            firstSentAt,
            leaseMs: request.leaseMs,
            claimAfterMs: CLAIM_AFTER_MS,
          }),
        leaveQueue: () => leaveRedisSharedLock(target),
      };
    });
  }

  /** Stop waiting callers (they reject) and close the subscriber connection. */
  async close(): Promise<void> {
    this.#core.close();
    this.#subscriptions.close();
  }

  /** Not async: waitInQueue is, and disposes the call (one async frame per acquire, not two). */
  #wait(
    request: BackendAcquireRequest,
    holdOf: (target: RedisLockTarget) => QueuedHold,
  ): Promise<BackendLock | null> {
    let call: RedisAcquireCall;
    let hold: QueuedHold;
    try {
      call = this.#core.beginAcquire(request);
    } catch (error) {
      return Promise.reject(error);
    }
    try {
      hold = holdOf(call.target);
    } catch (error) {
      call.dispose();
      return Promise.reject(error);
    }
    return waitInQueue(this.#parts, call, request, hold);
  }
}

/** A lock waited for on pub/sub (see {@link QueuedHold}). */
class QueuedRedisLock implements QueuedHold {
  readonly #target: RedisLockTarget;
  readonly #leaseMs: number;
  readonly channel: string;
  readonly member: string;

  constructor(target: RedisLockTarget, request: BackendAcquireRequest) {
    this.#target = target;
    this.#leaseMs = request.leaseMs;
    this.channel = target.keys.channel;
    this.member = request.token;
  }

  attempt(attempt: RedisAcquireAttempt): Promise<RedisLockAttempt> {
    return attemptRedisLock(this.#target, attempt);
  }

  // A handoff message naming us proves the lock is ours on its pickup lease: start now and
  // claim the full lease in the background (skipped when the section ends first).
  takeHandoff(fencingToken: number, firstSentAt: number): BackendLock | undefined {
    return takeHandedOverRedisLock(this.#target, {
      fencingToken,
      firstSentAt,
      leaseMs: this.#leaseMs,
      claimAfterMs: CLAIM_AFTER_MS,
    });
  }

  leaveQueue(): Promise<void> {
    return leaveRedisLockQueue(this.#target);
  }
}
