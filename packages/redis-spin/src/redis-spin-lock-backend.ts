import {
  abortableDelay,
  assertDuration,
  type BackendAcquireRequest,
  type BackendForceReleaseResult,
  type BackendListRequest,
  type BackendLock,
  type BackendLockState,
  type BackendSharedAcquireRequest,
  InvalidLockOptionsError,
  type LockBackend,
} from '@dlock/core';
import {
  attemptRedisLock,
  attemptRedisSharedLock,
  type RedisAcquireAttempt,
  RedisBackendCore,
  type RedisLockAttempt,
  type RedisLockClient,
  type RedisLockFormatOptions,
  type RedisLockTarget,
  redisSharedLockTarget,
} from '@dlock/redis-common';
import { changedHands, KeyTurns, type RetryBackoff, type TurnPlan } from './key-turns.js';
import { backoffDelayMs } from './spin-backoff.js';
import { TurnHeldLock } from './turn-held-lock.js';

const BACKEND = 'redis-spin';

/** How many times a turn may double while nobody else uses the yields (x turnMs). */
const MAX_TURN_SCALE = 16;

/** The most of a wait kept free for the last attempt's reply (see the retry loop). */
const MAX_REPLY_ROOM_MS = 50;

/**
 * Options of {@link RedisSpinLockBackend}: the shared Redis format options plus the retry backoff.
 *
 * @example
 * const spin = new RedisSpinLockBackend(redis, { keyPrefix: 'shop:dlock:', minDelayMs: 5, maxDelayMs: 100 });
 */
export interface RedisSpinLockBackendOptions extends RedisLockFormatOptions {
  /** First pause between two attempts while waiting. Default 10 ms. */
  readonly minDelayMs?: number | undefined;
  /** Longest pause between two attempts (the backoff doubles up to it). Default 200 ms. */
  readonly maxDelayMs?: number | undefined;
  /**
   * Share of each pause drawn at random, from 0 (fixed pauses) to 1 (anywhere between 0 and the
   * pause), so waiters of many servers do not retry in lockstep. Default 0.5.
   */
  readonly jitter?: number | undefined;
  /**
   * Longest turn, in ms, of this process at a key other processes wait for: a run of its callers
   * re-taking the key right after its own releases (they queue locally, so the next one tries
   * microseconds after a release while the other processes' callers sleep in backoff). Then its
   * next waiting caller first leaves the key free for `yieldMs`, and a caller of another process
   * that has seen the key change hands while it waited retries the more often the longer it has
   * waited (from two turns on, at least every `yieldMs`), so it takes the key in that window. A
   * window nobody used doubles the next turn (up to 16 times), so a process alone on a key rarely
   * pays for one. `false`: no turns (the key stays with whichever process keeps re-taking it).
   * Default 100.
   *
   * @example
   * const spin = new RedisSpinLockBackend(redis, { turnMs: 50, yieldMs: 20 });
   */
  readonly turnMs?: number | false | undefined;
  /**
   * How long a key lies free between two turns, and the longest pause between retries of a caller
   * that has seen the key change hands while it waited two turns (see `turnMs`). Default 30 ms.
   */
  readonly yieldMs?: number | undefined;
}

/**
 * Redis lock backend that waits by retrying: `SET NX PX` (the fencing token kept in the lock value) in one Lua
 * round trip, then exponential backoff with jitter until `waitMs`. The cheapest choice when callers
 * rarely wait; uses the same keys and scripts as `RedisPubSubLockBackend`, so both can be mixed on
 * one key.
 *
 * @example
 * import { Redis } from 'ioredis';
 * const spin = new RedisSpinLockBackend(new Redis(process.env.REDIS_URL), { maxDelayMs: 100 });
 * const manager = new LockManager({ backends: { spin } });
 */
export class RedisSpinLockBackend implements LockBackend {
  readonly #core: RedisBackendCore;
  readonly #backoff: RetryBackoff;
  /** Turns of a key between processes; undefined when `turnMs` is false. */
  readonly #turns: KeyTurns | undefined;

  constructor(redis: RedisLockClient, options: RedisSpinLockBackendOptions = {}) {
    const core = new RedisBackendCore(redis, options, BACKEND);
    const minDelayMs = assertDuration('minDelayMs', options.minDelayMs ?? 10, { backend: BACKEND });
    const maxDelayMs = assertDuration('maxDelayMs', options.maxDelayMs ?? Math.max(200, minDelayMs), {
      backend: BACKEND,
    });
    if (maxDelayMs < minDelayMs) {
      throw new InvalidLockOptionsError(
        `${BACKEND}: maxDelayMs (${maxDelayMs}) must be >= minDelayMs (${minDelayMs}).`,
        {
          backend: BACKEND,
        },
      );
    }
    const jitter = options.jitter ?? 0.5;
    if (typeof jitter !== 'number' || !(jitter >= 0 && jitter <= 1)) {
      throw new InvalidLockOptionsError(
        `${BACKEND}: jitter must be a number from 0 to 1 (got ${String(jitter)}).`,
        {
          backend: BACKEND,
        },
      );
    }
    const turns = resolveTurns(options);
    this.#core = core;
    this.#turns = turns;
    this.#backoff = { minDelayMs, maxDelayMs, jitter };
  }

  /**
   * Take the lock, retrying with backoff while it is taken. Callers of other processes get turns:
   * see `turnMs` in {@link RedisSpinLockBackendOptions}.
   */
  acquire(request: BackendAcquireRequest): Promise<BackendLock | null> {
    // Not async: #spin is (so nothing here throws synchronously), and a wrapper costs two ticks.
    const turns = this.#turns;
    if (!turns) return this.#spin(request, attemptRedisLock).then(heldLock);
    const plan = turns.begin(request.key, request.waitMs > 0);
    return this.#spin(request, attemptRedisLock, plan).then(
      (lock) => lock && new TurnHeldLock(lock.held, turns, request.key, turns.taken(plan, lock.firstAttempt)),
    );
  }

  /**
   * A read lock of a key (excluding its write lock, the plain lock, whichever backend takes it) or
   * a semaphore permit, by retrying like `acquire`. A spinning caller never queues, so it is not
   * served in arrival order: wait with the pub/sub backend when fairness matters. No turns
   * (`turnMs`) here: the manager does not queue shared callers locally, so each one spins like
   * the callers of other processes.
   */
  acquireShared(request: BackendSharedAcquireRequest): Promise<BackendLock | null> {
    return this.#spin(request, (target, attempt) =>
      attemptRedisSharedLock(redisSharedLockTarget(target, request.kind), attempt),
    ).then(heldLock);
  }

  /**
   * `plan`: the key's turn (exclusive locks only): hold back before the first attempt while the key
   * lies free for other processes, and, once the key changed hands while waiting, retry often enough
   * to land in such windows.
   */
  async #spin(
    request: BackendAcquireRequest,
    attemptOnce: (target: RedisLockTarget, attempt: RedisAcquireAttempt) => Promise<RedisLockAttempt>,
    plan?: TurnPlan,
  ): Promise<SpinResult | null> {
    const { target, signal, deadline, dispose } = this.#core.beginAcquire(request);
    const { leaseMs } = request;
    const startedAt = Date.now();
    try {
      // At most half the wait: a short wait must keep time for its attempt.
      const holdBackMs = plan ? Math.min(plan.yieldUntil - startedAt, (deadline - startedAt) / 2) : 0;
      if (holdBackMs > 0) await abortableDelay(holdBackMs, signal);
      // Try-once: exactly one round trip. A waiting caller's first attempt is bounded by its wait.
      let sentAt = Date.now();
      const first = await attemptOnce(target, {
        leaseMs,
        signal,
        deadline: request.waitMs > 0 ? deadline : undefined,
      });
      if (first.acquired) return { held: first.lock, firstAttempt: true };
      if (request.waitMs <= 0) return null;
      request.onContended?.();

      // A reply arriving after the deadline is abandoned, so the last attempt is sent one round
      // trip before it, not at it: over a 5 ms link an attempt sent at the deadline could never win.
      // The fastest round trip seen, and never more than MAX_REPLY_ROOM_MS: one slow reply (a
      // stall, a fresh connection) must not end the wait early.
      let roundTripMs = Math.min(Date.now() - sentAt, MAX_REPLY_ROOM_MS);
      // The holder's fence as last read: another one later means the key changed hands while we
      // waited (short holds we keep missing), not one long hold.
      let holderFence = first.holderFence;
      let handsChanged = false;
      for (let retry = 0; ; retry++) {
        const remaining = deadline - Date.now();
        if (remaining <= 0) return null;
        const room = remaining - roundTripMs;
        const backoff =
          plan && handsChanged
            ? this.#turns!.windowBackoff(this.#backoff, { waitedMs: Date.now() - startedAt, roundTripMs })
            : this.#backoff;
        const delay = backoffDelayMs({ retry, ...backoff });
        await abortableDelay(Math.max(0, Math.min(delay, room)), signal);
        // A reply still missing at the deadline is abandoned (and handed back if it won), so
        // waiting never outlasts waitMs, even while commands sit in ioredis' offline queue.
        sentAt = Date.now();
        const next = await attemptOnce(target, {
          leaseMs,
          signal,
          deadline: Math.max(deadline, Date.now() + 1),
        });
        if (next.acquired) return { held: next.lock, firstAttempt: false };
        handsChanged ||= changedHands(holderFence, next.holderFence);
        holderFence = next.holderFence ?? holderFence;
        roundTripMs = Math.min(roundTripMs, Date.now() - sentAt);
        // That was the attempt sent with no room left for another: the wait is over.
        if (room <= delay) return null;
      }
    } finally {
      dispose();
    }
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
  /** Stop waiting callers (they reject). The Redis client is the caller's and stays open. */
  async close(): Promise<void> {
    this.#core.close();
  }
}

/** The store's lock of a `#spin` result, or null when it was not taken. */
function heldLock(result: SpinResult | null): BackendLock | null {
  return result?.held ?? null;
}

/** A lock `#spin` took, and whether its first attempt took it (no other holder in between). */
interface SpinResult {
  readonly held: BackendLock;
  readonly firstAttempt: boolean;
}

/** Validated `turnMs` / `yieldMs`, or undefined when turns are off. */
function resolveTurns(options: RedisSpinLockBackendOptions): KeyTurns | undefined {
  const yieldMs = assertDuration('yieldMs', options.yieldMs ?? 30, { backend: BACKEND });
  if (options.turnMs === false) return undefined;
  const turnMs = assertDuration('turnMs', options.turnMs ?? 100, { backend: BACKEND });
  return new KeyTurns({ turnMs, yieldMs, maxTurnScale: MAX_TURN_SCALE });
}
