import { LockBackendError } from '@dlock/core';
import type { Cluster } from 'ioredis';

/** How often one SSUBSCRIBE is re-sent while slots move (each try waits for the new slot map). */
const MAX_SSUBSCRIBE_ATTEMPTS = 8;
/** Longest pause between two tries when ioredis reports no new slot map in the meantime. */
const SSUBSCRIBE_RETRY_MS = 250;

/**
 * The pub/sub backend's own subscriber on a Redis Cluster: a duplicate of the user's `Cluster` with
 * `shardedSubscribers: true`. ioredis only routes `SSUBSCRIBE` to the shard owning the channel (one
 * subscriber connection per master) with that option; without it the subscription lands on an
 * arbitrary node and `SPUBLISH` on the owning shard never reaches it. Making our own means the
 * user's client needs no special option, and stays untouched.
 *
 * @example
 * const subscriber = duplicateShardedSubscriber(cluster);
 * subscriber.on('smessage', (channel, message) => { ... });
 */
export function duplicateShardedSubscriber(source: Cluster): Cluster {
  // The offline queue holds SSUBSCRIBEs sent before the slot map is known; a user's
  // `enableOfflineQueue: false` or `lazyConnect` must not reject or delay them.
  return source.duplicate([], { shardedSubscribers: true, enableOfflineQueue: true, lazyConnect: false });
}

/**
 * `SSUBSCRIBE channel` that rides out a slot move: when the slot moved away before ioredis noticed,
 * the old owner answers `MOVED`; ioredis then reloads the slot map (and announces it with
 * `subscribersReady`), and the subscription is sent again to the new owner. Resolves once the
 * owning shard confirmed it, so a release published after that reaches us.
 *
 * `channel` is passed as is: ioredis treats SSUBSCRIBE arguments as keys and adds the client's own
 * `keyPrefix` itself (unlike SUBSCRIBE arguments).
 *
 * @throws LockBackendError (not retryable) when the cluster has no sharded pub/sub (Redis < 7.0).
 * @example
 * await ssubscribeFollowingSlots(subscriber, 'dlock:{stock:42}:released');
 */
/**
 * `SUNSUBSCRIBE channel`, re-sent after every slot map change until it lands or `abandon()` says
 * to stop (the channel is wanted again, or the subscriber closed). During a failover ioredis
 * refuses it ("no sharded subscriber for slot") without forgetting the channel, and would
 * subscribe it again on the promoted node for good: unlike a subscription, an unsubscription has
 * no caller waiting for it, so it keeps trying as long as the failover lasts.
 *
 * @example
 * void sunsubscribeFollowingSlots(subscriber, 'dlock:{stock:42}:released', () => channels.has(channel));
 */
export async function sunsubscribeFollowingSlots(
  subscriber: Cluster,
  channel: string,
  abandon: () => boolean,
): Promise<void> {
  while (!abandon() && subscriber.status !== 'end') {
    try {
      await subscriber.sunsubscribe(channel);
      return;
    } catch {
      await nextSlotMap(subscriber);
    }
  }
}

export async function ssubscribeFollowingSlots(subscriber: Cluster, channel: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await subscriber.ssubscribe(channel);
      return;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (/unknown command/i.test(message)) {
        throw new LockBackendError(
          'redis-pubsub: this Redis Cluster has no sharded pub/sub (SSUBSCRIBE needs Redis 7.0+); ' +
            'use RedisSpinLockBackend with it, or upgrade Redis.',
          { backend: 'redis-pubsub', cause: error, isRetryable: false },
        );
      }
      if (attempt >= MAX_SSUBSCRIBE_ATTEMPTS || subscriber.status === 'end') throw error;
      await nextSlotMap(subscriber);
    }
  }
}

/** One pending wait per subscriber, shared by every SSUBSCRIBE waiting for the next slot map. */
const nextSlotMaps = new WeakMap<Cluster, Promise<void>>();

/** Resolves when ioredis announces re-made subscribers after a new slot map, or after a short pause. */
function nextSlotMap(subscriber: Cluster): Promise<void> {
  let pending = nextSlotMaps.get(subscriber);
  if (!pending) {
    pending = new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        subscriber.off('subscribersReady', done);
        nextSlotMaps.delete(subscriber);
        resolve();
      };
      const timer = setTimeout(done, SSUBSCRIBE_RETRY_MS);
      subscriber.on('subscribersReady', done);
    });
    nextSlotMaps.set(subscriber, pending);
  }
  return pending;
}
