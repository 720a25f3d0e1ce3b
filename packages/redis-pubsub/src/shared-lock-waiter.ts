import { type BackendLock, type BackendSharedAcquireRequest, waitOrAbort } from '@dlock/core';
import {
  attemptRedisSharedLock,
  leaveRedisSharedLock,
  type RedisAcquireCall,
  redisSharedLockTarget,
  toLockBackendError,
} from '@dlock/redis-common';
import type { ChannelMembership, ReleaseSubscriptions } from './release-subscriptions.js';

/** What {@link waitForSharedLock} needs from its backend. */
export interface SharedLockWaitParts {
  readonly backend: string;
  readonly subscriptions: ReleaseSubscriptions;
  readonly maxSleepMs: number;
}

/**
 * A read lock or a semaphore permit, waited for on pub/sub: the caller joins the key's queue in
 * Redis in its first attempt and sleeps; a release admits the waiters that can proceed now (all
 * readers queued back to back, or as many permit waiters as permits came free) and publishes one
 * message naming each, which wakes exactly those; each then claims its hold in one round trip.
 *
 * @example
 * return waitForSharedLock({ backend: 'redis-pubsub', subscriptions, maxSleepMs }, call, request);
 */
export async function waitForSharedLock(
  parts: SharedLockWaitParts,
  call: RedisAcquireCall,
  request: BackendSharedAcquireRequest,
): Promise<BackendLock | null> {
  const { signal, deadline } = call;
  const target = redisSharedLockTarget(call.target, request.kind);
  const waits = request.waitMs > 0;
  const attempt = (first: boolean) =>
    attemptRedisSharedLock(target, {
      leaseMs: request.leaseMs,
      queueWaitMs: first ? request.waitMs : Math.max(0, deadline - Date.now()),
      signal,
      deadline: !waits ? undefined : first ? deadline : Math.max(deadline, Date.now() + 1),
    });
  const { channel, member } = target;
  let membership: ChannelMembership | undefined =
    waits && parts.subscriptions.confirmedEntry(channel)
      ? parts.subscriptions.join(channel, member)
      : undefined;
  let acquired = false;
  try {
    const first = await attempt(true);
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
        // A holder that crashed never releases: wake when its lease ends at the latest, and at
        // least every maxSleepMs (a message lost in transit costs less than a pickup lease).
        const napMs = Math.min(
          remaining,
          parts.maxSleepMs,
          fallbackMs >= 0 ? fallbackMs + 1 : parts.maxSleepMs,
        );
        await membership.waiter.sleep(napMs, signal);
      }
      recheck = false;
      membership.waiter.consume();
      // A message naming us means we were admitted on the pickup lease: the next attempt claims.
      membership.takeHandoffFence();
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
    // Leave the queue, passing on a hold granted to us at the last moment.
    if (!acquired && waits) void leaveRedisSharedLock(target);
  }
}

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
