import { onAbort } from './abort-link.js';
import { LockAbortedError, LockError, LockNotAcquiredError, LockTimeoutError } from './errors.js';
import { HeldLock } from './held-lock.js';
import { eventFields, type HeldLockRegistry, type LockEventFields } from './held-lock-registry.js';
import type { LocalKeyQueue } from './local-key-queue.js';
import { type Admission, TurnWaiter } from './local-turn-waiter.js';
import type { BackendLock } from './lock-backend.js';
import type { LockCallPlan } from './lock-call-plan.js';
import type { LockEventListening, LockEventSink } from './lock-events.js';
import type { LockOwnerRecord } from './lock-inspection.js';
import { LockReentry } from './lock-reentry.js';
import type { LockReleaser } from './lock-releaser.js';
import { LabelledOwners, ownerToken } from './owner-identity.js';
import { acquireFailure } from './shared-lock-errors.js';
import { freshLocks, type TakenLock, type TakenLocksUse } from './taken-lock.js';

export interface LockAcquirerParts {
  /** The manager: the async context tells its locks from another manager's. */
  readonly owner: object;
  /** Who this process is, recorded by the backend with every lock (the call's label is added). */
  readonly lockOwner?: LockOwnerRecord | undefined;
  readonly keyPrefix: string;
  readonly localQueue: LocalKeyQueue;
  readonly registry: HeldLockRegistry;
  readonly releaser: LockReleaser;
  readonly emit: LockEventSink;
  /** Whether an event has listeners (events are built only then). Default: always. */
  readonly listening?: LockEventListening;
}

/**
 * Takes the keys of one call: re-enters keys the call chain already holds, queues behind callers of
 * this process for the same key (only the head talks to the store), then asks the backend.
 */
export class LockAcquirer {
  readonly #parts: LockAcquirerParts;
  readonly #waitingCalls = new Set<AbortController>();
  /**
   * Aborted by {@link abortAll}: the signal of every call without a caller signal. Only a call with
   * its own signal needs a controller of its own (to merge both), so most calls allocate none.
   */
  readonly #closing = new AbortController();
  readonly #listening: LockEventListening;
  readonly #reentry: LockReentry;
  #closedReason: LockError | undefined;
  readonly #owners: LabelledOwners;

  constructor(parts: LockAcquirerParts) {
    this.#parts = parts;
    this.#reentry = new LockReentry(parts.owner);
    this.#owners = new LabelledOwners(parts.lockOwner);
    this.#listening = parts.listening ?? (() => true);
  }

  /** Abort every call still waiting, with `reason` as what they reject with. */
  abortAll(reason: LockError): void {
    this.#closedReason = reason;
    this.#closing.abort(reason);
    for (const call of this.#waitingCalls) call.abort(reason);
    this.#parts.localQueue.abortAll(reason);
  }

  /**
   * Take every key of `plan`, then hand the locks to `use` (make a handle, run the work) and
   * resolve with what it returns: one promise per call, not one per step.
   */
  acquireAll<R>(plan: LockCallPlan, renew: boolean, use: TakenLocksUse<R>): Promise<R> {
    const key = plan.keys[0]!;
    if (
      plan.keys.length === 1 &&
      plan.kind.type === 'exclusive' &&
      plan.waitMs > 0 &&
      !plan.signal?.aborted &&
      !this.#closedReason &&
      this.#parts.localQueue.isEntered(key) &&
      !this.#reentry.outerLock(key, plan)
    ) {
      return this.#waitForLocalTurn(key, { plan, renew, use, startedAt: Date.now(), token: ownerToken() });
    }
    return this.#acquireAll(plan, renew, use, undefined);
  }

  /**
   * A one-key call that must queue behind another caller of this process: it waits as one record
   * (no async frame is suspended until its turn comes: heap per local waiter, issue #18), then
   * goes on as any call, with the turn already its own.
   */
  #waitForLocalTurn<R>(key: string, admission: Admission<R>): Promise<R> {
    // Queued before the events: a listener that aborts the call or closes the manager reaches a
    // waiter that is already listening.
    const waiter = this.#parts.localQueue.wait(
      new TurnWaiter(this, admission),
      admission.plan.waitMs,
      admission.plan.signal,
    );
    // `.then` here, not in the waiter: the continuation runs in the caller's async context.
    const outcome = waiter.admitted.then(continueAfterTurn);
    const base = this.#startTaking(key, admission.plan, admission.token);
    this.#parts.emit('contended', base);
    return outcome;
  }

  /** {@link TurnWaiter}: its turn came. @internal */
  afterTurn<R>(admission: Admission<R>): Promise<R> {
    return this.#acquireAll(admission.plan, admission.renew, admission.use, admission);
  }

  /** {@link TurnWaiter}: it waited for its turn in vain; the error it rejects with (events sent). @internal */
  turnNotGiven(admission: Admission<unknown>, abortReason: unknown, timedOut: boolean): LockError {
    const { plan, startedAt } = admission;
    const base = eventFields(plan.keys[0]!, plan, admission.token);
    const error = timedOut
      ? this.#notTaken(base, plan.waitMs, startedAt)
      : this.#abortError(base.key, base.backend, abortReason);
    this.#parts.emit('failed', { ...base, waitedMs: Date.now() - startedAt, error });
    return error;
  }

  async #acquireAll<R>(
    plan: LockCallPlan,
    renew: boolean,
    use: TakenLocksUse<R>,
    admission: Admission<R> | undefined,
  ): Promise<R> {
    const startedAt = admission ? admission.startedAt : Date.now();
    const callerSignal = plan.signal;
    // A call with its own signal gets one controller, aborted by that signal or by close(). Not
    // AbortSignal.any: a long-lived parent signal would collect a dependent signal per call.
    // Without one, the shared closing signal is all it needs.
    let call: AbortController | undefined;
    let stopForwarding: (() => void) | undefined;
    if (callerSignal) {
      const own = new AbortController();
      call = own;
      if (callerSignal.aborted) own.abort(callerSignal.reason);
      else if (this.#closedReason) own.abort(this.#closedReason);
      stopForwarding = onAbort(callerSignal, () => own.abort(callerSignal.reason));
      this.#waitingCalls.add(own);
    }
    const signal = call ? call.signal : this.#closing.signal;
    const taken: TakenLock[] = [];
    // The key being taken, for its `failed` event (one async frame less per waiter than a
    // wrapper method around #take would cost).
    let taking: LockEventFields | undefined;
    try {
      for (const key of plan.keys) {
        const outer = this.#reentry.outerLock(key, plan);
        // A lock the chain lost is no lock: nested work must not run as if it held one.
        if (outer?.lostError) throw outer.lostError;
        if (outer) {
          taken.push({ lock: outer, fresh: false });
          continue;
        }
        // The first key of a call that waited for its local turn already has it (and its token).
        const admitted = admission !== undefined && taken.length === 0;
        taking = admitted
          ? eventFields(key, plan, admission.token)
          : this.#startTaking(key, plan, ownerToken());
        taken.push({
          lock: await this.#take(taking, plan, { startedAt, signal, renew }, admitted),
          fresh: true,
        });
        taking = undefined;
      }
    } catch (error) {
      if (taking && LockError.isInstance(error))
        this.#parts.emit('failed', { ...taking, waitedMs: Date.now() - startedAt, error });
      await this.#parts.releaser.releaseAll(freshLocks(taken), { honorHold: false });
      throw error;
    } finally {
      if (call) this.#waitingCalls.delete(call);
      stopForwarding?.();
    }
    return use(taken);
  }

  /** The event fields of a new attempt at `key` with owner token `token`, and `acquiring`. */
  #startTaking(key: string, plan: LockCallPlan, token: string): LockEventFields {
    const base = eventFields(key, plan, token);
    if (this.#listening('acquiring'))
      this.#parts.emit('acquiring', { ...base, waitMs: plan.waitMs, leaseMs: plan.leaseMs });
    return base;
  }

  async #take(
    base: LockEventFields,
    plan: LockCallPlan,
    call: { readonly startedAt: number; readonly signal: AbortSignal; readonly renew: boolean },
    admitted: boolean,
  ): Promise<HeldLock> {
    const { localQueue, emit, registry } = this.#parts;
    const { key, backend, token } = base;
    let contended = admitted;
    const onContended = () => {
      if (contended) return;
      contended = true;
      emit('contended', base);
    };

    // Only exclusive locks queue locally: readers and permit holders of one process must reach
    // the store together, or a process could never hold more than one of them.
    const { kind } = plan;
    const exclusive = kind.type === 'exclusive';
    // A free local turn is taken at once, without awaiting a promise for it.
    if (exclusive && !admitted && !localQueue.tryEnter(key)) {
      if (plan.waitMs > 0) onContended();
      let turn: Awaited<ReturnType<LocalKeyQueue['enter']>>;
      try {
        turn = await localQueue.enter(key, remainingMs(plan.waitMs, call.startedAt), call.signal);
      } catch (reason) {
        throw this.#abortError(key, backend, reason);
      }
      if (turn !== 'admitted') throw this.#notTaken(base, plan.waitMs, call.startedAt);
    }

    let backendLock: BackendLock | null;
    try {
      call.signal.throwIfAborted();
      const request = {
        key: this.#parts.keyPrefix + key,
        token,
        leaseMs: plan.leaseMs,
        waitMs: remainingMs(plan.waitMs, call.startedAt),
        signal: call.signal,
        onContended,
        owner: this.#owners.of(plan.label),
      };
      backendLock = exclusive
        ? await plan.backend.acquire(request)
        : await plan.backend.acquireShared!({ ...request, kind });
    } catch (error) {
      if (exclusive) localQueue.leave(key);
      if (call.signal.aborted) throw this.#abortError(key, backend, call.signal.reason);
      throw acquireFailure(error, key, backend);
    }
    if (!backendLock) {
      if (exclusive) localQueue.leave(key);
      throw this.#notTaken(base, plan.waitMs, call.startedAt);
    }
    if (call.signal.aborted) {
      // Granted in the same tick the caller gave up or the manager closed: nobody will work under
      // it, and close() has already let go of what it held. Give it back (token-checked).
      void backendLock.release().catch(() => {});
      if (exclusive) localQueue.leave(key);
      throw this.#abortError(key, backend, call.signal.reason);
    }

    // Every field named, no spread: a spread after other properties makes V8 build the object
    // through its slow path, which the profile showed as a third of the manager's own work.
    const lock = new HeldLock({
      manager: this.#reentry.contextOwner(kind),
      key,
      label: base.label,
      keyTemplate: base.keyTemplate,
      backend,
      token,
      leaseMs: plan.leaseMs,
      holdAtLeastMs: plan.holdAtLeastMs,
      backendLock,
      renew: call.renew,
      holdsLocalTurn: exclusive,
      listener: registry,
    });
    this.#reentry.remember(lock, kind);
    registry.add(lock);
    if (this.#listening('acquired'))
      emit('acquired', {
        ...base,
        waitedMs: Date.now() - call.startedAt,
        fencingToken: backendLock.fencingToken,
        contended,
      });
    return lock;
  }

  /** The error of a lock that stayed taken: held (try-once), or the wait ran out (`timeout` event). */
  #notTaken(base: LockEventFields, waitMs: number, startedAt: number): LockError {
    if (waitMs === 0) return new LockNotAcquiredError(base.key, base.backend);
    this.#parts.emit('timeout', { ...base, waitedMs: Date.now() - startedAt });
    return new LockTimeoutError(base.key, base.backend, waitMs);
  }

  #abortError(key: string, backend: string, reason: unknown): LockError {
    if (this.#closedReason && reason === this.#closedReason) return this.#closedReason;
    return new LockAbortedError(key, backend, reason);
  }
}

/** What is left of a call's wait at this moment (0 for a try-once call). */
function remainingMs(waitMs: number, startedAt: number): number {
  return waitMs === 0 ? 0 : Math.max(0, startedAt + waitMs - Date.now());
}

function continueAfterTurn<R>(waiter: TurnWaiter<R>): Promise<R> {
  return waiter.acquirer.afterTurn(waiter);
}
