import {
  type BackendLock,
  type LockBackendError,
  type SharedDeadlines,
  type WaitOrAbortOptions,
  waitOrAbort,
} from '@dlock/core';
import {
  commandFailure,
  type RedisCommandSubject,
  noAnswerError as timedOutError,
  unreachableError,
} from './redis-command-errors.js';
import { RedisConnectionHealth } from './redis-connection-health.js';
import type { RedisAcquireAttempt, RedisLockAttempt } from './redis-lock-attempt.js';

/**
 * The script calls of one hold, whatever it holds (a lock, a read lock, a semaphore permit): the
 * acquire round trip and the held lock below need nothing else, so every kind shares them.
 */
export interface RedisLockCalls {
  /** What errors name (the noun tells a read lock or a semaphore from a lock). */
  readonly subject: RedisCommandSubject;
  /** The subject's client, without making the subject (an error needs that, a call does not). */
  readonly client: RedisCommandSubject['client'];
  readonly commandTimeoutMs: number;
  /** The token-checked extend script, unbounded: the held lock bounds its wait. */
  extend(leaseMs: number): Promise<boolean>;
  /**
   * The token-checked release script. It also leaves the queue, and passes on what was granted
   * at the last moment, so a waiter that gives up calls it too.
   */
  release(): Promise<boolean>;
  /**
   * After a release that freed the hold: whether someone who does not queue (a spinning or
   * try-once caller) was turned away while it was held. Mutex locks only; others leave it unset.
   */
  readonly othersWaited?: boolean;
}

/** The held lock: extend and release go through the hold's own scripts. */
export class RedisHeldLock implements BackendLock {
  readonly fencingToken: number;
  readonly expiresAt: number;
  readonly #calls: RedisLockCalls;

  constructor(calls: RedisLockCalls, fencingToken: number, expiresAt: number) {
    this.#calls = calls;
    this.fencingToken = fencingToken;
    this.expiresAt = expiresAt;
  }

  extend(leaseMs: number): Promise<boolean> {
    return callScript(this.#calls, 'extending', this.#calls.extend(leaseMs));
  }

  release(): Promise<boolean> {
    return callScript(this.#calls, 'releasing', this.#calls.release());
  }

  /** After `release()` freed it: whether a caller that does not queue was turned away meanwhile. */
  get othersWaited(): boolean {
    return this.#calls.othersWaited === true;
  }
}

const DEADLINE_PASSED = Symbol('deadline passed');

/**
 * Send one acquire script (`send`) and wait for its reply as `attempt` allows. Whatever way the
 * call fails after the script may have run (lost reply, unreadable reply, abandoned wait), what it
 * may have granted is released in the background, so a failed attempt never strands a hold for a
 * whole lease. `checkReply` throws on a reply that is neither a grant (1) nor a refusal (0).
 */
export async function attemptThroughScript<R extends readonly [number, number, number?]>(
  calls: RedisLockCalls,
  attempt: RedisAcquireAttempt,
  send: () => Promise<R>,
  checkReply?: (reply: R) => void,
): Promise<RedisLockAttempt> {
  const { signal, deadline } = attempt;
  const health = RedisConnectionHealth.of(calls.client);
  const down = health.unreachableCause;
  // Known down and not willing to wait: say so now instead of after commandTimeoutMs.
  if (down && deadline === undefined)
    throw unreachableError(calls.subject, 'acquiring', down, health.address);

  const sentAt = Date.now();
  const reply = send();
  const wait = new AcquireReplyWait(calls, health, reply, signal, deadline);
  let parsed: R;
  try {
    parsed = await waitOrAbort(reply, wait);
  } catch (error) {
    // The script may have run (reply lost with the connection, or unreadable): the token-checked
    // release frees the hold if it was granted, and does nothing otherwise.
    if (!wait.abandoned) void leave(calls);
    if (error === DEADLINE_PASSED) return { acquired: false, remainingLeaseMs: -1, deadlinePassed: true };
    if (signal?.aborted && error === signal.reason) throw error;
    throw commandFailure(error, calls.subject, 'acquiring', health.address);
  }
  checkReply?.(parsed);
  const [status, value] = parsed;
  if (status === 0) {
    const holderFence = parsed[2];
    return holderFence === undefined
      ? { acquired: false, remainingLeaseMs: value }
      : { acquired: false, remainingLeaseMs: value, holderFence };
  }
  return { acquired: true, lock: new RedisHeldLock(calls, value, sentAt + attempt.leaseMs) };
}

/**
 * How an acquire attempt waits for its reply: until the caller's signal, its deadline or
 * commandTimeoutMs. One object with methods, not an options object and two closures per attempt.
 */
class AcquireReplyWait implements WaitOrAbortOptions {
  readonly signal: AbortSignal | undefined;
  readonly deadlines: SharedDeadlines;
  readonly timeoutMs: number;
  /** The caller stopped waiting (abort or timeout) before the reply came. */
  abandoned = false;
  readonly #calls: RedisLockCalls;
  readonly #health: RedisConnectionHealth;
  readonly #reply: Promise<readonly [number, number, number?]>;
  /** Whether the caller's deadline comes before commandTimeoutMs. */
  readonly #deadlineFirst: boolean;

  constructor(
    calls: RedisLockCalls,
    health: RedisConnectionHealth,
    reply: Promise<readonly [number, number, number?]>,
    signal: AbortSignal | undefined,
    deadline: number | undefined,
  ) {
    this.#calls = calls;
    this.#health = health;
    this.#reply = reply;
    this.signal = signal;
    this.deadlines = health.replyDeadlines;
    const deadlineMs = deadline === undefined ? Number.POSITIVE_INFINITY : deadline - Date.now();
    this.#deadlineFirst = deadlineMs < calls.commandTimeoutMs;
    this.timeoutMs = Math.min(calls.commandTimeoutMs, deadlineMs);
  }

  timeoutError(): unknown {
    if (!this.#deadlineFirst) return noAnswerError(this.#calls, 'acquiring', this.#health);
    const cause = this.#health.unreachableCause;
    return cause
      ? unreachableError(this.#calls.subject, 'acquiring', cause, this.#health.address)
      : DEADLINE_PASSED;
  }

  onAbandoned(): void {
    this.abandoned = true;
    releaseIfGranted(this.#calls, this.#reply);
  }
}

/** A flag-returning script call bounded by commandTimeoutMs only: no caller deadline reaches it. */
async function callScript(calls: RedisLockCalls, action: string, reply: Promise<boolean>): Promise<boolean> {
  const wait = new FlagReplyWait(calls, action);
  try {
    return await waitOrAbort(reply, wait);
  } catch (error) {
    throw commandFailure(error, calls.subject, action, wait.health.address);
  }
}

/** How an extend or release waits for its reply: commandTimeoutMs (one object, no closure). */
class FlagReplyWait implements WaitOrAbortOptions {
  readonly health: RedisConnectionHealth;
  readonly deadlines: SharedDeadlines;
  readonly timeoutMs: number;
  readonly #calls: RedisLockCalls;
  readonly #action: string;

  constructor(calls: RedisLockCalls, action: string) {
    this.#calls = calls;
    this.#action = action;
    this.health = RedisConnectionHealth.of(calls.client);
    this.deadlines = this.health.replyDeadlines;
    this.timeoutMs = calls.commandTimeoutMs;
  }

  timeoutError(): unknown {
    return noAnswerError(this.#calls, this.#action, this.health);
  }
}

/** Release, ignoring failure: if Redis is unreachable, a queue entry expires with its wait. */
async function leave(calls: RedisLockCalls): Promise<void> {
  await calls.release().catch(() => {});
}

/**
 * Nobody waits for this reply any more, and it may never come (a reply lost on a live connection):
 * release now, and again if the reply later says the hold was granted (the script may run after
 * our release when the client re-sends it after a reconnect). The release is token-checked, so it
 * never touches anyone else's hold.
 */
function releaseIfGranted(calls: RedisLockCalls, reply: Promise<readonly [number, number, number?]>): void {
  void leave(calls);
  reply.then(
    ([status]) => {
      if (status === 1) void leave(calls);
    },
    () => void leave(calls),
  );
}

/** Redis takes whole milliseconds; rounding up keeps the server's expiry at or after the local one. */
export function toRedisMs(ms: number): number {
  return Math.max(1, Math.ceil(ms));
}

/** No answer within commandTimeoutMs: unreachable (with the connection error) if the client knows so. */
function noAnswerError(
  calls: RedisLockCalls,
  action: string,
  health: RedisConnectionHealth,
): LockBackendError {
  const cause = health.unreachableCause;
  return cause
    ? unreachableError(calls.subject, action, cause, health.address)
    : timedOutError(calls.subject, action, calls.commandTimeoutMs, health.address);
}
