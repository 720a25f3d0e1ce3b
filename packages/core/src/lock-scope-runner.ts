import { LockError, LockNotAcquiredError, LockTimeoutError } from './errors.js';
import type { HeldLockRegistry } from './held-lock-registry.js';
import type { LockAcquirer } from './lock-acquirer.js';
import type { LockCallPlan } from './lock-call-plan.js';
import { type LockInfo, runWithHeldLocks } from './lock-context.js';
import type { LockEventSink } from './lock-events.js';
import { LockHandle, type LockHandleControl, lockHandleControl } from './lock-handle.js';
import type { LockReleaser } from './lock-releaser.js';
import { freshLocks, type TakenLock } from './taken-lock.js';

/** What the function given to `LockManager.withLock` receives. */
export interface LockScope {
  /** One entry per key, in acquisition order; the same objects `currentLock()` returns. */
  readonly locks: readonly LockInfo[];
  /** Aborts as soon as any lock of this scope is lost. */
  readonly signal: AbortSignal;
}

/** What `LockManager.tryWithLock` resolves to. */
export type TryLockResult<T> =
  | { readonly acquired: true; readonly value: T }
  | { readonly acquired: false; readonly reason: 'held' | 'timeout' };

/**
 * Runs a planned call: takes its locks, runs the work inside them (or hands out a handle), releases
 * them in reverse, and turns a loss into the call's outcome. The manager's public methods are this,
 * plus planning.
 */
export class LockScopeRunner {
  readonly #acquirer: LockAcquirer;
  readonly #releaser: LockReleaser;
  readonly #registry: HeldLockRegistry;
  readonly #emit: LockEventSink;
  readonly #handleControl: LockHandleControl;

  constructor(parts: {
    readonly acquirer: LockAcquirer;
    readonly releaser: LockReleaser;
    readonly registry: HeldLockRegistry;
    readonly emit: LockEventSink;
  }) {
    this.#acquirer = parts.acquirer;
    this.#releaser = parts.releaser;
    this.#registry = parts.registry;
    this.#emit = parts.emit;
    this.#handleControl = lockHandleControl(parts);
  }

  /** Not async: a caller waiting for its turn must not keep a suspended frame (issue #18). */
  run<T>(plan: LockCallPlan, fn: (scope: LockScope) => Promise<T> | T): Promise<T> {
    return this.#acquirer.acquireAll(plan, true, (taken) => this.#runHolding(taken, fn));
  }

  /** Like {@link run}, but a lock that stays taken is an answer (and a `skipped` event). */
  tryRun<T>(plan: LockCallPlan, fn: (scope: LockScope) => Promise<T> | T): Promise<TryLockResult<T>> {
    return this.#acquirer.acquireAll(plan, true, allTaken).then(
      async (taken): Promise<TryLockResult<T>> => ({
        acquired: true,
        value: await this.#runHolding(taken, fn),
      }),
      (error: unknown): TryLockResult<T> => {
        const reason = skipReason(error);
        if (!reason) throw error;
        this.#emit('skipped', {
          key: reason.key ?? plan.keys[0]!,
          backend: plan.backendName,
          label: plan.label,
          keyTemplate: plan.keyTemplate,
          reason: reason.reason,
        });
        return { acquired: false, reason: reason.reason };
      },
    );
  }

  /** One lock as a handle the caller releases; renewed only with `autoRenew`. */
  handle(plan: LockCallPlan, autoRenew: boolean): Promise<LockHandle> {
    return this.#acquirer.acquireAll(plan, autoRenew, this.#toHandle);
  }

  /** Made once: a handle call adds no closure of its own while it waits. */
  readonly #toHandle = (taken: TakenLock[]): LockHandle => {
    // Indexed, not destructured: array destructuring runs the iterator protocol.
    const { lock, fresh } = taken[0]!;
    return new LockHandle(lock, fresh ? this.#handleControl : undefined);
  };

  async #runHolding<T>(taken: readonly TakenLock[], fn: (scope: LockScope) => Promise<T> | T): Promise<T> {
    const fresh = freshLocks(taken);
    const scope = new HeldLocksScope(taken);
    let outcome: { ok: true; value: T } | { ok: false; error: unknown };
    try {
      outcome = { ok: true, value: await runWithHeldLocks(fresh, () => fn(scope)) };
    } catch (error) {
      outcome = { ok: false, error };
    }
    const lost = await this.#releaser.releaseAll(fresh, { honorHold: true });
    if (lost) {
      if (!outcome.ok && lost.cause === undefined)
        Object.defineProperty(lost, 'cause', { value: outcome.error });
      throw lost;
    }
    if (!outcome.ok) throw outcome.error;
    return outcome.value;
  }
}

/**
 * The scope handed to the work, built on first read: most work never looks at its locks or its
 * signal, and an AbortSignal costs more to make than the rest of an uncontended call.
 */
class HeldLocksScope implements LockScope {
  readonly #taken: readonly TakenLock[];
  #locks: readonly LockInfo[] | undefined;
  #signal: AbortSignal | undefined;

  constructor(taken: readonly TakenLock[]) {
    this.#taken = taken;
  }

  get locks(): readonly LockInfo[] {
    this.#locks ??= this.#taken.map(({ lock }) => lock.view);
    return this.#locks;
  }

  get signal(): AbortSignal {
    const taken = this.#taken;
    this.#signal ??=
      taken.length === 1 ? taken[0]!.lock.signal : AbortSignal.any(taken.map(({ lock }) => lock.signal));
    return this.#signal;
  }
}

function allTaken(taken: TakenLock[]): TakenLock[] {
  return taken;
}

/** Why a lock stayed taken, when that is the error: the answer `tryWithLock` gives instead. */
function skipReason(error: unknown): { key: string | undefined; reason: 'held' | 'timeout' } | undefined {
  if (!LockError.isInstance(error)) return undefined;
  if (LockNotAcquiredError.isInstance(error)) return { key: error.key, reason: 'held' };
  if (LockTimeoutError.isInstance(error)) return { key: error.key, reason: 'timeout' };
  return undefined;
}
