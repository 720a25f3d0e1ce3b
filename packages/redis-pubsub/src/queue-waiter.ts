import { type BackendAcquireRequest, type BackendLock, waitOrAbort } from '@dlock/core';
import { type RedisAcquireAttempt, type RedisLockAttempt, toLockBackendError } from '@dlock/redis-common';
import type { ChannelMembership, ReleaseSubscriptions } from './release-subscriptions.js';

/** What {@link waitInQueue} needs from its backend. */
export interface QueueWaitParts {
  readonly backend: string;
  readonly subscriptions: ReleaseSubscriptions;
  readonly maxSleepMs: number;
}

/** The caller's side of one wait: the linked signal and when the wait is over (epoch ms). */
export interface QueueWaitCall {
  readonly signal: AbortSignal;
  readonly deadline: number;
  /** Called once when the wait is over, whatever its outcome. */
  dispose(): void;
}

/**
 * What is waited for (a lock, a read lock, a semaphore permit): the waiting loop is the same for
 * all, only the scripts and the channel differ.
 */
export interface QueuedHold {
  /** Where the release announces whom it admitted. */
  readonly channel: string;
  /** Who the announcement names when it is us. */
  readonly member: string;
  /** One acquire round trip; it joins (or stays in) the queue when the hold is taken. */
  attempt(attempt: RedisAcquireAttempt): Promise<RedisLockAttempt>;
  /**
   * A message naming us carried this fencing token: the hold may be ours on its pickup lease
   * without a round trip. Returns `undefined` to claim it with an attempt instead. Omitted: always
   * claim with an attempt.
   */
  takeHandoff?(fencingToken: number, firstSentAt: number): BackendLock | undefined;
  /** Leave the queue, passing on a hold granted at the last moment. Never rejects. */
  leaveQueue(): Promise<void>;
}

/**
 * Wait for `hold` on pub/sub, fairly: the first attempt joins the key's queue in Redis, then the
 * caller sleeps until a release names it (or the holder's lease ends, or `maxSleepMs` passes) and
 * claims in one round trip. Returns `null` when the wait ends first. Disposes `call` when done.
 *
 * @example
 * return waitInQueue(parts, call, request, { channel, member, attempt, leaveQueue });
 */
export async function waitInQueue(
  parts: QueueWaitParts,
  call: QueueWaitCall,
  request: BackendAcquireRequest,
  hold: QueuedHold,
): Promise<BackendLock | null> {
  const { signal, deadline } = call;
  const waits = request.waitMs > 0;
  const { channel, member } = hold;

  // If this process already listens on the key's channel (another waiter, or the linger after
  // one), register before the first attempt is sent, so a handoff right after it reaches us.
  // Otherwise attempt first (an uncontended caller never subscribes) and re-check once subscribed.
  let membership: ChannelMembership | undefined;
  let acquired = false;
  try {
    membership =
      waits && parts.subscriptions.confirmedEntry(channel)
        ? parts.subscriptions.join(channel, member)
        : undefined;
    // Try-once: exactly one round trip. A waiting caller joins the queue in the same round trip.
    const firstSentAt = Date.now();
    const first = await attemptOnce(hold, request, call, true);
    if (first.acquired) {
      acquired = true;
      return first.lock;
    }
    if (!waits) return null;
    request.onContended?.();

    let recheck = false;
    if (!membership) {
      membership = parts.subscriptions.join(channel, member);
      recheck = true;
      if (!(await untilSubscribed(parts.backend, membership, request.key, signal, deadline))) return null;
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
          parts.maxSleepMs,
          fallbackMs >= 0 ? fallbackMs + 1 : parts.maxSleepMs,
        );
        await membership.waiter.sleep(napMs, signal);
      }
      recheck = false;
      membership.waiter.consume();
      // A message naming us means we were admitted on the pickup lease: the hold may start now,
      // or else the next attempt claims it.
      const handoffFence = membership.takeHandoffFence();
      if (handoffFence !== undefined && hold.takeHandoff) {
        const handed = hold.takeHandoff(handoffFence, firstSentAt);
        if (handed) {
          acquired = true;
          return handed;
        }
      }
      // Claims the hold if it was granted to us; takes it if free and we are next; else re-queues.
      const result = await attemptOnce(hold, request, call, false);
      if (result.acquired) {
        acquired = true;
        return result.lock;
      }
      if (!result.deadlinePassed) fallbackMs = result.remainingLeaseMs;
      if (deadline - Date.now() <= 0) return null;
    }
  } finally {
    membership?.leave();
    // Leave the queue, passing on a hold granted to us at the last moment (one round trip, only
    // for a caller that gave up, timed out or failed while queued).
    if (!acquired && waits) void hold.leaveQueue();
    call.dispose();
  }
}

/**
 * One attempt of a wait. Queue for what is left of the wait; a reply still missing at the deadline
 * is abandoned (and handed on if it won). The first attempt passes the whole wait, not a
 * re-measured remainder, so callers that wait equally long keep their arrival order in the queue.
 */
function attemptOnce(
  hold: QueuedHold,
  request: BackendAcquireRequest,
  call: QueueWaitCall,
  first: boolean,
): Promise<RedisLockAttempt> {
  const { signal, deadline } = call;
  const waits = request.waitMs > 0;
  return hold.attempt({
    leaseMs: request.leaseMs,
    queueWaitMs: first ? request.waitMs : Math.max(0, deadline - Date.now()),
    queued: !first,
    signal,
    deadline: !waits ? undefined : first ? deadline : Math.max(deadline, Date.now() + 1),
  });
}

/** Wait for the SUBSCRIBE reply; false if the deadline came first. */
async function untilSubscribed(
  backend: string,
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
    throw toLockBackendError(error, { backend, key, action: 'subscribing to the release channel of' });
  }
}
