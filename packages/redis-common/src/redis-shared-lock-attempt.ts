import { type BackendLock, SemaphorePermitsMismatchError, type SharedLockKind } from '@dlock/core';
import {
  runRwReadAcquireScript,
  runRwReadExtendScript,
  runRwReadReleaseScript,
  runSemaphoreAcquireScript,
  runSemaphoreExtendScript,
  runSemaphoreReleaseScript,
} from './generated/lua-scripts.js';
import { type RedisHandoff, takeHandedOverHold } from './handed-over-redis-lock.js';
import type { RedisLockClient } from './redis-client.js';
import type { RedisCommandSubject } from './redis-command-errors.js';
import { attemptThroughScript, type RedisLockCalls, toRedisMs } from './redis-held-lock.js';
import { LockKeyNames, type RedisLockKeys } from './redis-key-layout.js';
import type { RedisAcquireAttempt, RedisLockAttempt, RedisLockScriptSettings } from './redis-lock-attempt.js';
import type { AcquireReply, SemaphoreReply } from './redis-script-replies.js';

/**
 * The Redis names of a semaphore. All share the key's hash tag, hence one Cluster slot; none is a
 * name of the lock of the same key (a semaphore and a lock of one key are unrelated).
 */
export interface RedisSemaphoreKeys {
  /** `<prefix>{<key>}:semaphore`: sorted set holder token -> lease end (server ms). */
  readonly holders: string;
  /** `<prefix>{<key>}:semaphore:queue`: sorted set waiting token -> end of its wait. */
  readonly queue: string;
  /** `<prefix>{<key>}:semaphore:released`: `"<fence>:<token>"` wakes the waiter granted a permit. */
  readonly channel: string;
  /** `<prefix>{<key>}:semaphore:meta`: `"<permits>:<last fencing token>"`. */
  readonly meta: string;
}

/** The Redis names of a read lock: the lock's own names, plus its readers. */
export interface RedisReadLockKeys extends RedisLockKeys {
  /** `<prefix>{<key>}:readers`: sorted set reader member (`r:<token>`) -> lease end (server ms). */
  readonly readers: string;
}

/**
 * The names of the semaphore `key`, beside the lock names of {@link redisLockKeys}.
 *
 * @example
 * redisSemaphoreKeys(redisLockKeys('dlock:', 'psp')).holders; // 'dlock:{psp}:semaphore'
 */
export function redisSemaphoreKeys(lockKeys: RedisLockKeys): RedisSemaphoreKeys {
  return new SemaphoreKeyNames(`${lockKeys.lock}:semaphore`);
}

/** Like {@link LockKeyNames}: one string kept, the others made when read. */
class SemaphoreKeyNames implements RedisSemaphoreKeys {
  readonly holders: string;

  constructor(holders: string) {
    this.holders = holders;
  }
  get queue(): string {
    return `${this.holders}:queue`;
  }
  get channel(): string {
    return `${this.holders}:released`;
  }
  get meta(): string {
    return `${this.holders}:meta`;
  }
}

/**
 * The names of the read lock of `key`: the lock's names (readers and writers share its queue and
 * channel) plus the readers set.
 *
 * @example
 * redisReadLockKeys(redisLockKeys('dlock:', 'catalog')).readers; // 'dlock:{catalog}:readers'
 */
export function redisReadLockKeys(lockKeys: RedisLockKeys): RedisReadLockKeys {
  return new ReadLockKeyNames(lockKeys.lock);
}

/** The lock's names (see {@link LockKeyNames}) and the readers set's, made when read. */
class ReadLockKeyNames extends LockKeyNames implements RedisReadLockKeys {
  get readers(): string {
    return `${this.lock}:readers`;
  }
}

/** One shared hold (a read lock or a semaphore permit) in Redis, as every call about it sees it. */
export interface RedisSharedLockTarget {
  readonly client: RedisLockClient;
  /** The key as the manager passed it, for error messages. */
  readonly key: string;
  /**
   * Who holds or waits, as the scripts see it: the owner token for a semaphore, `r:<token>` for a
   * reader (so that readers and writers can wait in one queue and be told apart).
   */
  readonly member: string;
  readonly backend: string;
  readonly settings: RedisLockScriptSettings;
  readonly kind: SharedLockKind;
  /** Where a waiter listens for the message naming `member`. */
  readonly channel: string;
  readonly semaphoreKeys: RedisSemaphoreKeys;
  readonly readKeys: RedisReadLockKeys;
}

/**
 * The target of a shared hold of the lock whose names are `keys`, for `token`.
 *
 * @example
 * const target = redisSharedLockTarget({ client, keys, key, token, backend, settings }, { type: 'read' });
 */
export function redisSharedLockTarget(
  lock: {
    readonly client: RedisLockClient;
    readonly keys: RedisLockKeys;
    readonly key: string;
    readonly token: string;
    readonly backend: string;
    readonly settings: RedisLockScriptSettings;
  },
  kind: SharedLockKind,
): RedisSharedLockTarget {
  const semaphoreKeys = redisSemaphoreKeys(lock.keys);
  const readKeys = redisReadLockKeys(lock.keys);
  return {
    client: lock.client,
    key: lock.key,
    member: kind.type === 'read' ? `r:${lock.token}` : lock.token,
    backend: lock.backend,
    settings: lock.settings,
    kind,
    channel: kind.type === 'read' ? readKeys.channel : semaphoreKeys.channel,
    semaphoreKeys,
    readKeys,
  };
}

/**
 * One acquire round trip of a shared hold: takes a read lock or a permit if the rules let this
 * caller in now, claims one granted to it while queued, otherwise (optionally) queues. Like
 * `attemptRedisLock`: a reply abandoned (abort, deadline) or lost is followed by a release, so a
 * failed attempt never strands a permit for a whole lease.
 *
 * @throws SemaphorePermitsMismatchError when the semaphore is in use with other permits.
 * @example
 * const attempt = await attemptRedisSharedLock(target, { leaseMs: 30_000 });
 */
export async function attemptRedisSharedLock(
  target: RedisSharedLockTarget,
  attempt: RedisAcquireAttempt,
): Promise<RedisLockAttempt> {
  return attemptThroughScript(
    sharedLockCalls(target),
    attempt,
    () => runAcquire(target, attempt),
    checkPermits,
  );

  function checkPermits([status, value]: SemaphoreReply | AcquireReply): void {
    if (status !== 2) return;
    throw new SemaphorePermitsMismatchError({
      key: target.key,
      backend: target.backend,
      permits: target.kind.type === 'semaphore' ? target.kind.permits : 0,
      storedPermits: value,
    });
  }
}

/**
 * Give up a shared hold or a place in its queue: a waiter that stops waiting calls it too, so a
 * permit or read lock granted to it at the last moment is passed on. Never rejects.
 *
 * @example
 * await leaveRedisSharedLock(target);
 */
export async function leaveRedisSharedLock(target: RedisSharedLockTarget): Promise<void> {
  await runRelease(target).catch(() => {});
}

/**
 * Take a semaphore permit that a release granted to this waiter and announced by naming it, without
 * a claim round trip (see {@link takeHandedOverRedisLock}): the permit is ours on the pickup lease
 * from the grant on; the full lease is claimed with the token-checked extend after `claimAfterMs`.
 * `undefined` when too little of the pickup lease is left: claim with an acquire attempt instead.
 *
 * @example
 * const permit = takeGrantedRedisPermit(target, { fencingToken, firstSentAt, leaseMs, claimAfterMs: 20 });
 */
export function takeGrantedRedisPermit(
  target: RedisSharedLockTarget,
  handoff: RedisHandoff,
): BackendLock | undefined {
  if (target.kind.type !== 'semaphore') return undefined;
  return takeHandedOverHold(sharedLockCalls(target), target.settings.handoffLeaseMs, handoff);
}

/** The extend and release scripts of a read lock or a semaphore, for the held lock and the attempt. */
function sharedLockCalls(target: RedisSharedLockTarget): RedisLockCalls {
  return new SharedLockScripts(target);
}

/** A class, not an object of closures: a held permit or read lock keeps it for its whole life. */
class SharedLockScripts implements RedisLockCalls {
  readonly #target: RedisSharedLockTarget;
  #subject: RedisCommandSubject | undefined;

  constructor(target: RedisSharedLockTarget) {
    this.#target = target;
  }

  /** What errors name: made on first use (most holds never fail). */
  get subject(): RedisCommandSubject {
    this.#subject ??= { ...this.#target, noun: what(this.#target) };
    return this.#subject;
  }

  get client(): RedisLockClient {
    return this.#target.client;
  }

  get commandTimeoutMs(): number {
    return this.#target.settings.commandTimeoutMs;
  }

  extend(leaseMs: number): Promise<boolean> {
    const target = this.#target;
    const args = { leaseMs: toRedisMs(leaseMs) };
    return target.kind.type === 'read'
      ? runRwReadExtendScript(target.client, target.readKeys, { member: target.member, ...args })
      : runSemaphoreExtendScript(target.client, target.semaphoreKeys, { token: target.member, ...args });
  }

  release(): Promise<boolean> {
    return runRelease(this.#target);
  }
}

function runAcquire(
  target: RedisSharedLockTarget,
  attempt: RedisAcquireAttempt,
): Promise<SemaphoreReply | AcquireReply> {
  const { settings, kind } = target;
  const common = {
    leaseMs: toRedisMs(attempt.leaseMs),
    queueWaitMs: attempt.queueWaitMs && attempt.queueWaitMs > 0 ? toRedisMs(attempt.queueWaitMs) : 0,
    handoffLeaseMs: toRedisMs(settings.handoffLeaseMs),
    publishCommand: settings.publishCommand,
  };
  if (kind.type === 'read') {
    return runRwReadAcquireScript(target.client, target.readKeys, {
      member: target.member,
      ...common,
    });
  }
  return runSemaphoreAcquireScript(target.client, target.semaphoreKeys, {
    token: target.member,
    permits: kind.permits,
    ...common,
  });
}

function runRelease(target: RedisSharedLockTarget): Promise<boolean> {
  const { settings, kind } = target;
  const common = {
    handoffLeaseMs: toRedisMs(settings.handoffLeaseMs),
    publishCommand: settings.publishCommand,
  };
  if (kind.type === 'read') {
    return runRwReadReleaseScript(target.client, target.readKeys, {
      member: target.member,
      ...common,
    });
  }
  return runSemaphoreReleaseScript(target.client, target.semaphoreKeys, {
    token: target.member,
    permits: kind.permits,
    ...common,
  });
}

function what(target: RedisSharedLockTarget): string {
  return target.kind.type === 'read' ? `read lock "${target.key}"` : `semaphore "${target.key}"`;
}
