import type { BackendLock } from '@dlock/core';
import { runAcquireScript, runExtendScript, runReleaseScript } from './generated/lua-scripts.js';
import type { PublishCommand, RedisLockClient } from './redis-client.js';
import { attemptThroughScript, type RedisLockCalls, toRedisMs } from './redis-held-lock.js';
import type { RedisLockKeys } from './redis-key-layout.js';
import type { ReleaseReply } from './redis-script-replies.js';

/**
 * Default time a released lock keeps its last fencing token (as a tombstone): 0, none. The next
 * token after a release is seeded from the Redis server clock, so the key's memory is freed at once.
 */
export const DEFAULT_FENCE_RETENTION_MS = 0;

/** Default time to wait for the reply to one lock script before failing with a retryable LockBackendError. */
export const DEFAULT_COMMAND_TIMEOUT_MS = 5_000;

/** Default pickup lease of a waiter the lock is handed to. */
export const DEFAULT_HANDOFF_LEASE_MS = 2_000;

/** The format settings every script call of a lock needs, validated once per backend. */
export interface RedisLockScriptSettings {
  readonly fenceRetentionMs: number;
  readonly handoffLeaseMs: number;
  /** Longest wait for one script reply before a retryable `LockBackendError`. */
  readonly commandTimeoutMs: number;
  readonly publishCommand: PublishCommand;
  /** Whether the scripts record who holds the lock in its owner key (`recordOwner`). */
  readonly recordOwner: boolean;
}

/**
 * One lock in Redis as every call about it sees it: where it lives, whose it is, how its scripts
 * run. Deliberately nothing about one call (no signal, no deadline): the held lock keeps this
 * object for extend and release, long after the acquire call that made it is over.
 */
export interface RedisLockTarget {
  readonly client: RedisLockClient;
  readonly keys: RedisLockKeys;
  /** The key as the manager passed it, for error messages. */
  readonly key: string;
  readonly token: string;
  /**
   * Who asks, as the acquire script stores it (see `encodeRedisOwner`); `''` records nothing
   * (`recordOwner: false`).
   */
  readonly ownerRecord: string;
  /** Backend label for errors, e.g. "redis-spin". */
  readonly backend: string;
  readonly settings: RedisLockScriptSettings;
}

/** What one acquire round trip asks for, on top of its {@link RedisLockTarget}. */
export interface RedisAcquireAttempt {
  readonly leaseMs: number;
  /**
   * If the lock is taken, join its queue for this many ms (a pub/sub waiter). 0 or omitted: never
   * queue (try-once and spin callers), so the attempt only ever takes a free, unclaimed lock.
   */
  readonly queueWaitMs?: number;
  /**
   * A waiter's retry: an earlier attempt may have queued this token, so a free lock goes to the head
   * of the queue (which may be this caller) instead of through the uncontended fast path, which
   * would leave this caller's queue entry behind to be handed the lock after it is gone.
   */
  readonly queued?: boolean;
  /**
   * Stop waiting for the reply when this aborts: the attempt rejects with the signal's reason. If
   * Redis still grants the lock later, it is released in the background.
   */
  readonly signal?: AbortSignal;
  /**
   * Epoch ms after which the caller no longer wants the lock: a reply still missing then is
   * abandoned like on abort, and the attempt resolves as not acquired with `deadlinePassed`
   * (or rejects with a `LockBackendError` when the server is known to be unreachable).
   */
  readonly deadline?: number;
}

/** Outcome of one acquire round trip. */
export type RedisLockAttempt =
  | { readonly acquired: true; readonly lock: BackendLock }
  | {
      readonly acquired: false;
      /**
       * The holder's remaining lease in ms (PTTL) for the head of the queue and a queued retry, or
       * -1 when not read or unknown (no expiry, no reply).
       */
      readonly remainingLeaseMs: number;
      /**
       * The fencing token the holder took the lock with, when someone else holds it: a different
       * one in a later attempt means the lock changed hands in between.
       */
      readonly holderFence?: number;
      /** The reply did not come before `deadline`. */
      readonly deadlinePassed?: boolean;
    };

/**
 * One acquire round trip through the `acquire` script: takes the lock if free and nobody is queued
 * ahead, claims it if it was handed to this token, otherwise (optionally) queues and reports the
 * holder's remaining lease. Whatever way the call fails after the script may have run (lost reply,
 * unreadable reply, abandoned wait), the lock it may have granted is released in the background,
 * so a failed attempt never strands a lock for a whole lease.
 *
 * @example
 * const attempt = await attemptRedisLock(target, { leaseMs: 30_000 });
 * if (attempt.acquired) return attempt.lock;
 */
export function attemptRedisLock(
  target: RedisLockTarget,
  attempt: RedisAcquireAttempt,
): Promise<RedisLockAttempt> {
  // Not async: the caller awaits this, and an async wrapper around a promise cost it two ticks.
  // A caller that already gave up sends nothing (no grant to hand back, no round trip).
  if (attempt.signal?.aborted) return Promise.reject(attempt.signal.reason);
  const { client, keys, token, settings } = target;
  // Unreadable replies reject like lost ones (and the lock they may have granted is released).
  return attemptThroughScript(redisLockCalls(target), attempt, () =>
    runAcquireScript(client, keys, {
      token,
      leaseMs: toRedisMs(attempt.leaseMs),
      queueWaitMs: attempt.queueWaitMs && attempt.queueWaitMs > 0 ? toRedisMs(attempt.queueWaitMs) : 0,
      handoffLeaseMs: toRedisMs(settings.handoffLeaseMs),
      publishCommand: settings.publishCommand,
      ownerRecord: target.ownerRecord,
      queued: attempt.queued ? 1 : 0,
    }),
  );
}

/**
 * A queued waiter gives up: leave the queue, and if the lock was handed to it at the last moment,
 * pass it on. Never rejects: if Redis is unreachable, the queue entry expires with the wait.
 *
 * @example
 * await leaveRedisLockQueue(target);
 */
export async function leaveRedisLockQueue(target: RedisLockTarget): Promise<void> {
  await releaseLock(target).catch(() => {});
}

/** The `extend` and `release` scripts of the lock `target`, for the held lock and the attempt. */
export function redisLockCalls(target: RedisLockTarget): RedisLockCalls {
  return new RedisLockScripts(target);
}

/**
 * A class, not an object of closures: a held lock keeps this for its whole life, and one object
 * with one field is what that should cost (heap per held lock, issue #18).
 */
class RedisLockScripts implements RedisLockCalls {
  // A lock's errors name it as `lock "<key>"`, the subject's default noun.
  readonly subject: RedisLockTarget;
  othersWaited = false;

  constructor(target: RedisLockTarget) {
    this.subject = target;
  }

  get client(): RedisLockClient {
    return this.subject.client;
  }

  get commandTimeoutMs(): number {
    return this.subject.settings.commandTimeoutMs;
  }

  /** Reset the lease of a lock we hold (the owner record is part of the lock value). */
  extend(leaseMs: number): Promise<boolean> {
    const { client, keys, token } = this.subject;
    return runExtendScript(client, keys, { token, leaseMs: toRedisMs(leaseMs) });
  }

  release(): Promise<boolean> {
    return releaseLock(this.subject).then((reply) => {
      this.othersWaited = reply === 2;
      return reply !== 0;
    });
  }
}

function releaseLock(target: RedisLockTarget): Promise<ReleaseReply> {
  const { client, keys, token, settings } = target;
  return runReleaseScript(client, keys, {
    token,
    handoffLeaseMs: toRedisMs(settings.handoffLeaseMs),
    fenceRetentionMs: settings.fenceRetentionMs > 0 ? toRedisMs(settings.fenceRetentionMs) : 0,
    publishCommand: settings.publishCommand,
    ownerRecord: target.ownerRecord,
  });
}
