import { type BackendLock, LockBackendError } from '@dlock/core';
import { RedisHeldLock, type RedisLockCalls } from './redis-held-lock.js';
import { type RedisLockTarget, redisLockCalls } from './redis-lock-attempt.js';

/** What a handoff message told a waiter, and what the waiter knows about its own wait. */
export interface RedisHandoff {
  /** The fencing token the release drew for us (from the message). */
  readonly fencingToken: number;
  /**
   * Local epoch ms before which the handoff certainly happened no earlier: when the waiter's FIRST
   * attempt of this acquisition was sent (its token can only have been queued, hence handed the
   * lock, after that). `sentAt + handoffLeaseMs` is then never later than the pickup lease's end.
   */
  readonly firstSentAt: number;
  /** The caller's lease, claimed in the background (after `claimAfterMs`) unless released first. */
  readonly leaseMs: number;
  /** Wait this long before claiming the full lease: a short critical section never needs it. */
  readonly claimAfterMs: number;
}

/**
 * Take a lock that a release handed to `target.token` and announced in a handoff message, without a
 * claim round trip: the lock is ours on the pickup lease from the moment of the handoff, so the
 * caller may start at once. `expiresAt` starts at `firstSentAt + handoffLeaseMs` (never later than
 * the pickup lease's real end); after `claimAfterMs` the lock claims the caller's full lease, but
 * never less than what is left of the pickup lease, with the token-checked `extend` script (which
 * never takes a free lock, so a claim that arrives after a release does nothing); `expiresAt` then
 * follows what Redis was told, so it never runs past the real expiry. If the claim finds the lock gone (the pickup lease ran
 * out first, e.g. the process was paused), `lostSignal` aborts. Returns `undefined` when too little of
 * the pickup lease is left to start safely: claim with an acquire attempt instead.
 *
 * @example
 * const lock = takeHandedOverRedisLock(target, { fencingToken, firstSentAt, leaseMs, claimAfterMs: 20 });
 */
export function takeHandedOverRedisLock(
  target: RedisLockTarget,
  handoff: RedisHandoff,
): BackendLock | undefined {
  return takeHandedOverHold(redisLockCalls(target), target.settings.handoffLeaseMs, handoff);
}

/**
 * {@link takeHandedOverRedisLock} for any hold whose grant names its new owner in a message and
 * sets a pickup lease of `handoffLeaseMs` (a lock, a semaphore permit), through that hold's own
 * token-checked extend and release.
 */
export function takeHandedOverHold(
  calls: RedisLockCalls,
  handoffLeaseMs: number,
  handoff: RedisHandoff,
): BackendLock | undefined {
  const pickupEndsAt = handoff.firstSentAt + handoffLeaseMs;
  // Start only with at least half the pickup lease (and the claim delay) left: a caller that waited
  // longer claims first, as before.
  const left = pickupEndsAt - Date.now();
  if (left < handoffLeaseMs / 2 || left < 4 * handoff.claimAfterMs) return undefined;
  return new HandedOverRedisLock(calls, handoff, pickupEndsAt);
}

class HandedOverRedisLock implements BackendLock {
  readonly fencingToken: number;
  readonly #calls: RedisLockCalls;
  // Extend and release are the plain held lock's; this class only adds the pickup-lease bookkeeping.
  readonly #held: RedisHeldLock;
  readonly #lost = new AbortController();
  #expiresAt: number;
  #claimTimer: NodeJS.Timeout | undefined;
  #released = false;

  constructor(calls: RedisLockCalls, handoff: RedisHandoff, pickupEndsAt: number) {
    this.#calls = calls;
    this.fencingToken = handoff.fencingToken;
    this.#held = new RedisHeldLock(calls, handoff.fencingToken, pickupEndsAt);
    this.#expiresAt = pickupEndsAt;
    this.#claimTimer = setTimeout(() => void this.#claim(handoff.leaseMs), handoff.claimAfterMs);
    this.#claimTimer.unref();
  }

  get expiresAt(): number {
    return this.#expiresAt;
  }

  get lostSignal(): AbortSignal {
    return this.#lost.signal;
  }

  async #claim(leaseMs: number): Promise<void> {
    this.#claimTimer = undefined;
    if (this.#released) return;
    try {
      // Never shorter than what is left of the pickup lease: the expiry this lock already reported
      // must stay at or before the real one (PEXPIRE sets the TTL, it does not only lengthen it).
      if (await this.extend(Math.max(leaseMs, this.#expiresAt - Date.now()))) return;
      if (!this.#released) {
        const { subject } = this.#calls;
        this.#lost.abort(
          new LockBackendError(
            `The pickup lease of ${subject.noun ?? `lock "${subject.key}"`} ran out before its holder claimed it (was the process paused?).`,
            { backend: subject.backend, key: subject.key, isRetryable: false },
          ),
        );
      }
    } catch {
      // Unreachable: the manager's expiry watch reports the loss when the pickup lease ends.
    }
  }

  async extend(leaseMs: number): Promise<boolean> {
    clearTimeout(this.#claimTimer);
    this.#claimTimer = undefined;
    const sentAt = Date.now();
    const ours = await this.#held.extend(leaseMs);
    // PEXPIRE sets the TTL: the lease now ends leaseMs after the server saw it, at or after this.
    if (ours) this.#expiresAt = sentAt + leaseMs;
    return ours;
  }

  release(): Promise<boolean> {
    this.#released = true;
    clearTimeout(this.#claimTimer);
    this.#claimTimer = undefined;
    return this.#held.release();
  }
}
