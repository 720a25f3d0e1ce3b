import { type BackendLock, LockBackendError, waitOrAbort } from '@dlock/core';
import { runAcquireScript, runExtendScript, runReleaseScript } from './generated/lua-scripts.js';
import type { PublishCommand, RedisLockClient } from './redis-client.js';
import { commandFailure, noAnswerError as timedOutError, unreachableError } from './redis-command-errors.js';
import { RedisConnectionHealth } from './redis-connection-health.js';
import type { RedisLockKeys } from './redis-key-layout.js';
import { recordFlag } from './redis-owner-record.js';
import type { AcquireReply } from './redis-script-replies.js';

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
      /** The holder's remaining lease in ms (PTTL), or -1 when unknown (no expiry, no reply). */
      readonly remainingLeaseMs: number;
      /** The reply did not come before `deadline`. */
      readonly deadlinePassed?: boolean;
    };

const DEADLINE_PASSED = Symbol('deadline passed');

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
export async function attemptRedisLock(
  target: RedisLockTarget,
  attempt: RedisAcquireAttempt,
): Promise<RedisLockAttempt> {
  const { client, keys, token, settings } = target;
  const { signal, deadline } = attempt;
  // A caller that already gave up sends nothing (no grant to hand back, no round trip).
  signal?.throwIfAborted();
  const health = RedisConnectionHealth.of(client);
  const down = health.unreachableCause;
  // Known down and not willing to wait: say so now instead of after commandTimeoutMs.
  if (down && deadline === undefined) throw unreachableError(target, 'acquiring', down, health.address);

  const sentAt = Date.now();
  // Unreadable replies reject like lost ones (and the lock they may have granted is released).
  const reply = runAcquireScript(client, keys, {
    token,
    leaseMs: toRedisMs(attempt.leaseMs),
    queueWaitMs: attempt.queueWaitMs && attempt.queueWaitMs > 0 ? toRedisMs(attempt.queueWaitMs) : 0,
    handoffLeaseMs: toRedisMs(settings.handoffLeaseMs),
    publishCommand: settings.publishCommand,
    ownerRecord: target.ownerRecord,
  });
  const deadlineMs = deadline === undefined ? Number.POSITIVE_INFINITY : deadline - Date.now();
  let parsed: AcquireReply;
  let abandoned = false;
  try {
    parsed = await waitOrAbort(reply, {
      signal,
      timeoutMs: Math.min(settings.commandTimeoutMs, deadlineMs),
      timeoutError: () => {
        if (deadlineMs >= settings.commandTimeoutMs) return noAnswerError(target, 'acquiring', health);
        const cause = health.unreachableCause;
        return cause ? unreachableError(target, 'acquiring', cause, health.address) : DEADLINE_PASSED;
      },
      onAbandoned: () => {
        abandoned = true;
        releaseIfGranted(target, reply);
      },
    });
  } catch (error) {
    // The script may have run (reply lost with the connection, or unreadable): the token-checked
    // release frees the lock if it was granted, and does nothing otherwise.
    if (!abandoned) void leaveRedisLockQueue(target);
    if (error === DEADLINE_PASSED) return { acquired: false, remainingLeaseMs: -1, deadlinePassed: true };
    if (signal?.aborted && error === signal.reason) throw error;
    throw describeFailure(error, target, 'acquiring', health);
  }
  const [status, value] = parsed;
  if (status === 0) return { acquired: false, remainingLeaseMs: value };
  return { acquired: true, lock: new RedisBackendLock(target, value, sentAt + attempt.leaseMs) };
}

/** The held lock: extend and release go through the `extend` and `release` scripts. */
class RedisBackendLock implements BackendLock {
  readonly fencingToken: number;
  readonly expiresAt: number;
  readonly #target: RedisLockTarget;

  constructor(target: RedisLockTarget, fencingToken: number, expiresAt: number) {
    this.#target = target;
    this.fencingToken = fencingToken;
    this.expiresAt = expiresAt;
  }

  extend(leaseMs: number): Promise<boolean> {
    return extendLock(this.#target, leaseMs);
  }

  release(): Promise<boolean> {
    return callScript(this.#target, 'releasing', releaseLock(this.#target));
  }
}

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
  const pickupEndsAt = handoff.firstSentAt + target.settings.handoffLeaseMs;
  // Start only with at least half the pickup lease (and the claim delay) left: a caller that waited
  // longer claims first, as before.
  const left = pickupEndsAt - Date.now();
  if (left < target.settings.handoffLeaseMs / 2 || left < 4 * handoff.claimAfterMs) return undefined;
  return new HandedOverRedisLock(target, handoff, pickupEndsAt);
}

class HandedOverRedisLock implements BackendLock {
  readonly fencingToken: number;
  readonly #target: RedisLockTarget;
  readonly #lost = new AbortController();
  #expiresAt: number;
  #claimTimer: NodeJS.Timeout | undefined;
  #released = false;

  constructor(target: RedisLockTarget, handoff: RedisHandoff, pickupEndsAt: number) {
    this.#target = target;
    this.fencingToken = handoff.fencingToken;
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
        this.#lost.abort(
          new LockBackendError(
            `The pickup lease of lock "${this.#target.key}" ran out before its holder claimed it (was the process paused?).`,
            { backend: this.#target.backend, key: this.#target.key, isRetryable: false },
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
    const ours = await extendLock(this.#target, leaseMs);
    // PEXPIRE sets the TTL: the lease now ends leaseMs after the server saw it, at or after this.
    if (ours) this.#expiresAt = sentAt + leaseMs;
    return ours;
  }

  release(): Promise<boolean> {
    this.#released = true;
    clearTimeout(this.#claimTimer);
    this.#claimTimer = undefined;
    return callScript(this.#target, 'releasing', releaseLock(this.#target));
  }
}

/** A flag-returning script call bounded by commandTimeoutMs only: no caller deadline reaches it. */
async function callScript(
  target: RedisLockTarget,
  action: string,
  reply: Promise<boolean>,
): Promise<boolean> {
  const health = RedisConnectionHealth.of(target.client);
  try {
    return await waitOrAbort(reply, {
      timeoutMs: target.settings.commandTimeoutMs,
      timeoutError: () => noAnswerError(target, action, health),
    });
  } catch (error) {
    throw describeFailure(error, target, action, health);
  }
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

function releaseLock(target: RedisLockTarget): Promise<boolean> {
  const { client, keys, token, settings } = target;
  return runReleaseScript(client, keys, {
    token,
    handoffLeaseMs: toRedisMs(settings.handoffLeaseMs),
    fenceRetentionMs: settings.fenceRetentionMs > 0 ? toRedisMs(settings.fenceRetentionMs) : 0,
    publishCommand: settings.publishCommand,
    recordOwner: recordFlag(settings),
  });
}

/** Reset the lease (and the owner record's expiry with it) of a lock we hold. */
function extendLock(target: RedisLockTarget, leaseMs: number): Promise<boolean> {
  const { client, keys, token, settings } = target;
  const args = { token, leaseMs: toRedisMs(leaseMs), recordOwner: recordFlag(settings) };
  return callScript(target, 'extending', runExtendScript(client, keys, args));
}

/**
 * Nobody waits for this reply any more, and it may never come (a reply lost on a live connection):
 * release now, and again if the reply later says the lock was granted (the script may run after
 * our release when the client re-sends it after a reconnect). The release is token-checked, so it
 * never touches anyone else's lock.
 */
function releaseIfGranted(target: RedisLockTarget, reply: Promise<AcquireReply>): void {
  void leaveRedisLockQueue(target);
  reply.then(
    ([status]) => {
      if (status === 1) void leaveRedisLockQueue(target);
    },
    () => void leaveRedisLockQueue(target),
  );
}

/** Redis takes whole milliseconds; rounding up keeps the server's expiry at or after the local one. */
function toRedisMs(ms: number): number {
  return Math.max(1, Math.ceil(ms));
}

/** No answer within commandTimeoutMs: unreachable (with the connection error) if the client knows so. */
function noAnswerError(
  target: RedisLockTarget,
  action: string,
  health: RedisConnectionHealth,
): LockBackendError {
  const cause = health.unreachableCause;
  return cause
    ? unreachableError(target, action, cause, health.address)
    : timedOutError(target, action, target.settings.commandTimeoutMs, health.address);
}

function describeFailure(
  error: unknown,
  target: RedisLockTarget,
  action: string,
  health: RedisConnectionHealth,
): unknown {
  return commandFailure(error, target, action, health.address);
}
