import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { onAbort } from './abort-link.js';
import { assertDuration } from './duration.js';
import {
  InvalidLockKeyError,
  InvalidLockOptionsError,
  LockAbortedError,
  LockBackendError,
  LockError,
  LockLostError,
  LockNotAcquiredError,
  LockTimeoutError,
} from './errors.js';
import { HeldLock } from './held-lock.js';
import { validateLockKey } from './key-template.js';
import { LocalKeyQueue } from './local-key-queue.js';
import type { LockBackend } from './lock-backend.js';
import { findHeldLock, type LockInfo, runWithHeldLocks } from './lock-context.js';
import type { LockManagerEvents } from './lock-events.js';
import {
  type AcquireOptions,
  type CallLockOptions,
  type LockDefaults,
  resolveTiming,
} from './lock-options.js';
import { LockHandleView } from './lock-view.js';

/** What a {@link LockRoute} sees to pick a backend. */
export interface LockRouteRequest {
  /** The keys of the call, sorted. */
  readonly keys: readonly string[];
  /** 0 for a single attempt. */
  readonly waitMs: number;
  readonly leaseMs: number;
}

/** Picks a backend name for a call that does not name one. */
export type LockRoute = (request: LockRouteRequest) => string;

/**
 * The recommended mix: a lock that must not wait spins once (cheapest), a lock that waits sleeps on
 * pub/sub (no polling load while it waits).
 */
export const recommendedRoute: LockRoute = ({ waitMs }) => (waitMs > 0 ? 'pubsub' : 'spin');

export interface LockManagerOptions {
  /** Backends by name, e.g. `{ spin, pubsub, mysql }`. */
  readonly backends: Readonly<Record<string, LockBackend>>;
  /**
   * Picks the backend when a call names none. Default: the only backend if there is one,
   * otherwise {@link recommendedRoute} (no retry -> "spin", retry -> "pubsub").
   */
  readonly route?: LockRoute;
  /** Prepended to every key, e.g. `"shop:"`, so several apps can share a store. */
  readonly keyPrefix?: string;
  /** Defaults for `retry`, `leaseMs` and `waitMs`. */
  readonly defaults?: LockDefaults;
}

/** What the function given to {@link LockManager.withLock} receives. */
export interface LockScope {
  /** One entry per key, in acquisition order. */
  readonly locks: readonly LockInfo[];
  /** Aborts as soon as any lock of this scope is lost. */
  readonly signal: AbortSignal;
}

/** What {@link LockManager.tryWithLock} resolves to. */
export type TryLockResult<T> =
  | { readonly acquired: true; readonly value: T }
  | { readonly acquired: false; readonly reason: 'held' | 'timeout' };

/** A lock taken with {@link LockManager.acquire}. Release it in a `finally`. */
export interface LockHandle {
  readonly key: string;
  readonly backend: string;
  /** Random owner token; the store only lets this token extend or release the lock. */
  readonly token: string;
  readonly fencingToken: number | undefined;
  /** Aborts if the lock is lost. */
  readonly signal: AbortSignal;
  /** Epoch ms when the lease runs out unless extended. */
  readonly expiresAt: number;
  /** Release the lock. Rejects with `LockLostError` if it was lost meanwhile. Calling it again does nothing. */
  release(): Promise<void>;
  /** Reset the lease to `leaseMs` (default: the lease it was taken with) from now. */
  extend(leaseMs?: number): Promise<void>;
}

interface LockPlan {
  readonly keys: readonly string[];
  readonly backendName: string;
  readonly backend: LockBackend;
  readonly waitMs: number;
  readonly leaseMs: number;
  readonly holdAtLeastMs: number;
  readonly signal: AbortSignal | undefined;
}

const MANAGER_CLOSED_REASON = 'the lock manager was closed';

/**
 * Takes, renews and releases locks through named backends. One instance per process (per app);
 * it queues callers of this process for the same key so that only one of them talks to the store.
 *
 * @example
 * const manager = new LockManager({ backends: { spin, pubsub } });
 * await manager.withLock('stock:42', { retry: { waitMs: 5_000 } }, async () => {
 *   await decreaseStock(42);
 * });
 */
export class LockManager extends EventEmitter<LockManagerEvents> {
  readonly #backends: ReadonlyMap<string, LockBackend>;
  readonly #route: LockRoute;
  readonly #keyPrefix: string;
  readonly #defaults: LockDefaults;
  readonly #localQueue = new LocalKeyQueue();
  readonly #held = new Set<HeldLock>();
  readonly #waitingCalls = new Set<AbortController>();
  #closed: Promise<void> | undefined;

  constructor(options: LockManagerOptions) {
    super();
    const entries = Object.entries(options?.backends ?? {});
    if (entries.length === 0) {
      throw new InvalidLockOptionsError(
        'LockManager needs at least one backend: new LockManager({ backends: { name: backend } }).',
      );
    }
    for (const [name, backend] of entries) {
      if (typeof backend?.acquire !== 'function' || typeof backend.close !== 'function') {
        throw new InvalidLockOptionsError(
          `Backend "${name}" does not implement LockBackend (acquire, close).`,
          { backend: name },
        );
      }
    }
    this.#backends = new Map(entries);
    const onlyBackend = entries.length === 1 ? entries[0]![0] : undefined;
    this.#route = options.route ?? (onlyBackend ? () => onlyBackend : recommendedRoute);
    this.#keyPrefix = options.keyPrefix ?? '';
    if (typeof this.#keyPrefix !== 'string') throw new InvalidLockOptionsError('keyPrefix must be a string.');
    this.#defaults = options.defaults ?? {};
    resolveTiming({}, this.#defaults);
    if (this.#defaults.waitMs !== undefined) assertDuration('defaults.waitMs', this.#defaults.waitMs);
  }

  /** Backend names this manager knows. */
  get backendNames(): readonly string[] {
    return [...this.#backends.keys()];
  }

  /**
   * Validate options and keys exactly as a call would, without touching the store.
   * The decorator uses it to fail at decoration time for a misspelled backend.
   */
  assertBackend(name: string): void {
    if (!this.#backends.has(name)) {
      throw new InvalidLockOptionsError(
        `Unknown lock backend "${name}"; this manager has: ${this.backendNames.map((n) => `"${n}"`).join(', ')}.`,
        { backend: name },
      );
    }
  }

  /**
   * Run `fn` while holding every key. Several keys are taken in sorted order (so `[a, b]` and
   * `[b, a]` cannot deadlock) and released in reverse. The lease is renewed while `fn` runs.
   *
   * @throws LockNotAcquiredError without `retry`, if a key is held elsewhere.
   * @throws LockTimeoutError if `retry.waitMs` passes first.
   * @throws LockLostError after `fn` settles, if a lock was lost meanwhile (`scope.signal` aborted at the loss).
   */
  async withLock<T>(
    keys: string | readonly string[],
    options: CallLockOptions,
    fn: (scope: LockScope) => Promise<T> | T,
  ): Promise<T> {
    assertFunction(fn, 'withLock');
    const plan = this.#plan(keys, options);
    return this.#runHolding(await this.#acquireAll(plan, true), fn);
  }

  /**
   * Like {@link withLock}, but a lock that stays taken is an answer, not an error: resolves to
   * `{ acquired: false }` (and emits `skipped`) when a try-once call finds a key held or a wait
   * runs out. Every other failure still rejects. The tool for "run once across replicas" jobs.
   *
   * @example
   * const run = await manager.tryWithLock('job:nightly-report', { holdAtLeastMs: 30_000 }, buildReport);
   * if (!run.acquired) logger.info('another replica runs the nightly report');
   */
  async tryWithLock<T>(
    keys: string | readonly string[],
    options: CallLockOptions,
    fn: (scope: LockScope) => Promise<T> | T,
  ): Promise<TryLockResult<T>> {
    assertFunction(fn, 'tryWithLock');
    const plan = this.#plan(keys, options);
    let taken: TakenLock[];
    try {
      taken = await this.#acquireAll(plan, true);
    } catch (error) {
      const reason = LockNotAcquiredError.isInstance(error)
        ? 'held'
        : LockTimeoutError.isInstance(error)
          ? 'timeout'
          : undefined;
      if (!reason || !LockError.isInstance(error)) throw error;
      this.#emit('skipped', { key: error.key ?? plan.keys[0]!, backend: plan.backendName, reason });
      return { acquired: false, reason };
    }
    return { acquired: true, value: await this.#runHolding(taken, fn) };
  }

  async #runHolding<T>(taken: readonly TakenLock[], fn: (scope: LockScope) => Promise<T> | T): Promise<T> {
    const fresh = freshLocks(taken);
    const scope: LockScope = {
      locks: taken.map(({ lock }) => lock.info()),
      signal: combineSignals(taken.map(({ lock }) => lock.signal)),
    };

    let outcome: { ok: true; value: T } | { ok: false; error: unknown };
    try {
      outcome = { ok: true, value: await runWithHeldLocks(fresh, () => fn(scope)) };
    } catch (error) {
      outcome = { ok: false, error };
    }
    const lost = await this.#releaseAll(fresh);
    if (lost) {
      if (!outcome.ok && lost.cause === undefined)
        Object.defineProperty(lost, 'cause', { value: outcome.error });
      throw lost;
    }
    if (!outcome.ok) throw outcome.error;
    return outcome.value;
  }

  /**
   * Take one lock and return a handle. Unlike `withLock`, the lease is NOT renewed unless
   * `autoRenew: true`, so a forgotten handle expires; `handle.extend()` renews by hand.
   *
   * @example
   * const lock = await manager.acquire('report:daily', { leaseMs: 60_000 });
   * try { await buildReport(lock.signal); } finally { await lock.release(); }
   */
  async acquire(key: string, options: AcquireOptions = {}): Promise<LockHandle> {
    if (Array.isArray(key))
      throw new InvalidLockKeyError('acquire() takes one key; use withLock() for several.');
    const plan = this.#plan(key, options);
    const [taken] = await this.#acquireAll(plan, options.autoRenew === true);
    const { lock, fresh } = taken!;
    return fresh ? this.#handleFor(lock) : reentrantHandle(lock);
  }

  /**
   * Stop taking locks: waiting callers are aborted, locks still held are released (their signals
   * abort and their scopes reject with `LockLostError`), and every backend is closed.
   * Call it on shutdown after the server stopped accepting requests.
   */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      const closedError = new LockBackendError('The lock manager is closed.', { isRetryable: false });
      for (const call of this.#waitingCalls) call.abort(closedError);
      const held = [...this.#held];
      for (const lock of held) lock.markLost(MANAGER_CLOSED_REASON);
      // In parallel: on a silent network each release waits its backend's command timeout, and
      // shutdown must not take that once per held lock.
      await Promise.all(held.map((lock) => this.#release(lock, { honorHold: false })));
      await Promise.allSettled([...this.#backends.values()].map((backend) => backend.close()));
    })();
    return this.#closed;
  }

  #plan(keys: string | readonly string[], options: CallLockOptions): LockPlan {
    if (this.#closed) throw new LockBackendError('The lock manager is closed.', { isRetryable: false });
    if (options === null || typeof options !== 'object') {
      throw new InvalidLockOptionsError('Lock options must be an object (use {} for the defaults).');
    }
    const sortedKeys = normalizeKeys(keys);
    const { waitMs, leaseMs, holdAtLeastMs } = resolveTiming(options, this.#defaults);
    const backendName = options.backend ?? this.#route({ keys: sortedKeys, waitMs, leaseMs });
    this.assertBackend(backendName);
    if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) {
      throw new InvalidLockOptionsError('signal must be an AbortSignal.');
    }
    return {
      keys: sortedKeys,
      backendName,
      backend: this.#backends.get(backendName)!,
      waitMs,
      leaseMs,
      holdAtLeastMs,
      signal: options.signal,
    };
  }

  async #acquireAll(plan: LockPlan, renew: boolean): Promise<TakenLock[]> {
    const startedAt = Date.now();
    // One controller per call, aborted by the caller's signal or by close(). Not AbortSignal.any:
    // a long-lived parent signal would collect a dependent signal per call.
    const call = new AbortController();
    const callerSignal = plan.signal;
    if (callerSignal?.aborted) call.abort(callerSignal.reason);
    const stopForwarding = callerSignal
      ? onAbort(callerSignal, () => call.abort(callerSignal.reason))
      : undefined;
    this.#waitingCalls.add(call);
    const taken: TakenLock[] = [];
    try {
      for (const key of plan.keys) {
        const outer = findHeldLock(this, key);
        if (outer instanceof HeldLock) taken.push({ lock: outer, fresh: false });
        else
          taken.push({
            lock: await this.#acquireOne(key, plan, { startedAt, signal: call.signal, renew }),
            fresh: true,
          });
      }
      return taken;
    } catch (error) {
      await this.#releaseAll(freshLocks(taken));
      throw error;
    } finally {
      this.#waitingCalls.delete(call);
      stopForwarding?.();
    }
  }

  async #acquireOne(
    key: string,
    plan: LockPlan,
    call: { startedAt: number; signal: AbortSignal; renew: boolean },
  ): Promise<HeldLock> {
    const { backendName } = plan;
    const deadline = call.startedAt + plan.waitMs;
    const remainingMs = () => (plan.waitMs === 0 ? 0 : Math.max(0, deadline - Date.now()));
    let contended = false;
    const onContended = () => {
      if (contended) return;
      contended = true;
      this.#emit('contended', { key, backend: backendName });
    };
    const timedOut = () => {
      this.#emit('timeout', { key, backend: backendName, waitedMs: Date.now() - call.startedAt });
      return new LockTimeoutError(key, backendName, plan.waitMs);
    };

    if (plan.waitMs > 0 && this.#localQueue.isEntered(key)) onContended();
    let turn: Awaited<ReturnType<LocalKeyQueue['enter']>>;
    try {
      turn = await this.#localQueue.enter(key, remainingMs(), call.signal);
    } catch (reason) {
      throw this.#abortError(key, backendName, reason);
    }
    if (turn === 'busy') throw plan.waitMs === 0 ? new LockNotAcquiredError(key, backendName) : timedOut();
    if (turn === 'timeout') throw timedOut();

    const token = randomUUID();
    let backendLock: Awaited<ReturnType<LockBackend['acquire']>>;
    try {
      call.signal.throwIfAborted();
      backendLock = await plan.backend.acquire({
        key: this.#keyPrefix + key,
        token,
        leaseMs: plan.leaseMs,
        waitMs: remainingMs(),
        signal: call.signal,
        onContended,
      });
    } catch (error) {
      this.#localQueue.leave(key);
      if (call.signal.aborted) throw this.#abortError(key, backendName, call.signal.reason);
      throw toBackendError(error, key, backendName, 'acquiring');
    }
    if (!backendLock) {
      this.#localQueue.leave(key);
      throw plan.waitMs === 0 ? new LockNotAcquiredError(key, backendName) : timedOut();
    }

    const lock = new HeldLock({
      manager: this,
      key,
      backendName,
      backend: plan.backend,
      token,
      leaseMs: plan.leaseMs,
      holdAtLeastMs: plan.holdAtLeastMs,
      backendLock,
      renew: call.renew,
      onLost: (lost) => this.#reportLost(lost),
    });
    this.#held.add(lock);
    this.#emit('acquired', {
      key,
      backend: backendName,
      waitedMs: Date.now() - call.startedAt,
      fencingToken: backendLock.fencingToken,
    });
    return lock;
  }

  /** Release in reverse order; resolves to the first loss found, if any. Never rejects. */
  async #releaseAll(
    locks: readonly HeldLock[],
    how: { honorHold: boolean } = { honorHold: true },
  ): Promise<LockLostError | undefined> {
    let firstLoss: LockLostError | undefined;
    for (const lock of [...locks].reverse()) {
      const lost = await this.#release(lock, how);
      firstLoss ??= lost;
    }
    return firstLoss;
  }

  async #release(lock: HeldLock, how: { honorHold: boolean }): Promise<LockLostError | undefined> {
    if (lock.released) return lock.lostError;
    lock.retire();
    let releasedInStore = false;
    try {
      // holdAtLeastMs: let the store drop it when the time is up instead of deleting it now.
      const holdMs = how.honorHold ? lock.holdUntil - Date.now() : 0;
      releasedInStore =
        holdMs >= 1 ? await lock.backendLock.extend(holdMs) : await lock.backendLock.release();
      if (!releasedInStore && lock.markLost('another owner holds it now, or it expired'))
        this.#reportLost(lock);
    } catch (error) {
      // The lease frees the lock eventually; the work under it already happened, so do not fail the call.
      const failure = toBackendError(error, lock.key, lock.backend, 'releasing');
      process.emitWarning(failure.message, { code: 'DLOCK_RELEASE_FAILED', detail: String(failure.cause) });
    } finally {
      this.#held.delete(lock);
      this.#giveBackTurn(lock);
    }
    if (releasedInStore && !lock.lostError) {
      this.#emit('released', { key: lock.key, backend: lock.backend, heldMs: Date.now() - lock.acquiredAt });
    }
    return lock.lostError;
  }

  #handleFor(lock: HeldLock): LockHandle {
    let releasing: Promise<LockLostError | undefined> | undefined;
    return new LockHandleView(lock, {
      release: async () => {
        releasing ??= this.#release(lock, { honorHold: true });
        const lost = await releasing;
        if (lost) throw lost;
      },
      extend: async (leaseMs = lock.leaseMs) => {
        assertDuration('leaseMs', leaseMs);
        if (lock.lostError) throw lock.lostError;
        if (lock.released) throw new LockLostError(lock.key, lock.backend, 'it was already released');
        const sentAt = Date.now();
        let stillOurs: boolean;
        try {
          stillOurs = await lock.backendLock.extend(leaseMs);
        } catch (error) {
          throw toBackendError(error, lock.key, lock.backend, 'extending');
        }
        if (!stillOurs) {
          if (lock.markLost('it expired before extend() was called')) this.#reportLost(lock);
          throw lock.lostError!;
        }
        lock.extended(sentAt + leaseMs);
      },
    });
  }

  #giveBackTurn(lock: HeldLock): void {
    if (lock.giveBackTurn()) this.#localQueue.leave(lock.key);
  }

  #reportLost(lock: HeldLock): void {
    this.#giveBackTurn(lock);
    this.#emit('lost', {
      key: lock.key,
      backend: lock.backend,
      heldMs: Date.now() - lock.acquiredAt,
      error: lock.lostError!,
    });
  }

  #abortError(key: string, backend: string, reason: unknown): LockError {
    if (this.#closed && LockError.isInstance(reason)) return reason;
    return new LockAbortedError(key, backend, reason);
  }

  /** Emit without letting a throwing listener break lock bookkeeping. */
  #emit<E extends keyof LockManagerEvents>(event: E, ...args: LockManagerEvents[E]): void {
    try {
      (this.emit as (event: E, ...args: LockManagerEvents[E]) => boolean)(event, ...args);
    } catch (error) {
      process.emitWarning(`A "${String(event)}" listener of LockManager threw: ${String(error)}`, {
        code: 'DLOCK_LISTENER_THREW',
      });
    }
  }
}

function assertFunction(fn: unknown, method: string): void {
  if (typeof fn !== 'function') throw new TypeError(`${method}(keys, options, fn): fn must be a function.`);
}

function normalizeKeys(keys: string | readonly string[]): string[] {
  const list = typeof keys === 'string' ? [keys] : keys;
  if (!Array.isArray(list)) {
    throw new InvalidLockKeyError(
      `A lock key must be a string or an array of strings, got ${keys === null ? 'null' : typeof keys}.`,
    );
  }
  if (list.length === 0)
    throw new InvalidLockKeyError('At least one lock key is required; got an empty array.');
  // Sorted by code unit so every process takes the same keys in the same order.
  return [...new Set(list.map(validateLockKey))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function combineSignals(signals: readonly AbortSignal[]): AbortSignal {
  return signals.length === 1 ? signals[0]! : AbortSignal.any([...signals]);
}

export function toBackendError(error: unknown, key: string, backend: string, action: string): LockError {
  if (LockError.isInstance(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new LockBackendError(`Backend "${backend}" failed while ${action} lock "${key}": ${message}`, {
    key,
    backend,
    cause: error,
  });
}

/** A lock of this call, and whether this call took it (or re-entered one held further up its chain). */
interface TakenLock {
  readonly lock: HeldLock;
  readonly fresh: boolean;
}

function freshLocks(taken: readonly TakenLock[]): HeldLock[] {
  return taken.filter(({ fresh }) => fresh).map(({ lock }) => lock);
}

function reentrantHandle(outer: HeldLock): LockHandle {
  // The caller already holds the key higher up its call chain: only the outer scope releases it.
  return new LockHandleView(outer, { release: async () => {}, extend: async () => {} });
}
