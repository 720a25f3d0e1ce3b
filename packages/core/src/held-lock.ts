import { onAbort } from './abort-link.js';
import { type AfterTickTask, cancelAfterTick, scheduleAfterTick } from './after-tick.js';
import { LockLostError } from './errors.js';
import { type LeaseListener, LeaseWatch } from './lease-watch.js';
import type { BackendLock } from './lock-backend.js';
import { LockView } from './lock-handle.js';

const STORE_LOST = 'the store reported it gone (its connection or session ended)';

export interface HeldLockInit {
  readonly manager: object;
  readonly key: string;
  /** The call's `label` and `keyTemplate`, repeated in this lock's events. */
  readonly label: string | undefined;
  readonly keyTemplate: string | undefined;
  /** The manager's name of the backend. */
  readonly backend: string;
  readonly token: string;
  readonly leaseMs: number;
  /** 0: release at once at the end of the scope. */
  readonly holdAtLeastMs: number;
  readonly backendLock: BackendLock;
  readonly renew: boolean;
  /**
   * Whether this lock took this process' local turn for its key (an exclusive lock does; a read
   * lock or a semaphore permit never queues locally), and so has one to give back.
   */
  readonly holdsLocalTurn: boolean;
  /** Told of the lock's loss and renewals (the manager's registry: one for every lock). */
  readonly listener: HeldLockListener;
}

/** What a held lock reports, and to whom. */
export interface HeldLockListener {
  /** Called once, after `markLost()` returned true for a loss the lock found itself. */
  reportLost(lock: HeldLock): void;
  reportRenewed(lock: HeldLock): void;
  reportRenewalFailed(lock: HeldLock, error: unknown): void;
}

/** A lock this process holds in the store: its lease watch, its abort signal, its loss. */
export class HeldLock implements LeaseListener, AfterTickTask {
  readonly manager: object;
  readonly key: string;
  readonly label: string | undefined;
  readonly keyTemplate: string | undefined;
  readonly backend: string;
  readonly token: string;
  readonly leaseMs: number;
  readonly backendLock: BackendLock;
  readonly acquiredAt = Date.now();
  /** The end of the scope keeps the lock in the store until `acquiredAt` + this (`holdAtLeastMs`). */
  readonly holdAtLeastMs: number;
  /** Made on first use of `signal` (most scopes never read it); aborted at a loss if made. */
  #controller: AbortController | undefined;
  readonly #watch: LeaseWatch;
  readonly #listener: HeldLockListener;
  #expiresAt: number;
  #released = false;
  #lostError: LockLostError | undefined;
  /** Whether the store's `lostSignal` was looked at (after the tick, or earlier by a reader). */
  #storeWatched = false;
  #unsubscribeStore: (() => void) | undefined;
  #holdsLocalTurn: boolean;
  #view: LockView | undefined;

  constructor(init: HeldLockInit) {
    this.manager = init.manager;
    this.key = init.key;
    this.label = init.label;
    this.keyTemplate = init.keyTemplate;
    this.backend = init.backend;
    this.token = init.token;
    this.leaseMs = init.leaseMs;
    this.holdAtLeastMs = init.holdAtLeastMs;
    this.backendLock = init.backendLock;
    this.#expiresAt = init.backendLock.expiresAt;
    this.#holdsLocalTurn = init.holdsLocalTurn;
    // Keeps the registry, not `init`: a held lock keeps no copy of the acquisition's bookkeeping
    // (heap per held lock, issue #18).
    this.#listener = init.listener;
    // Armed after this tick: a lock released in the same tick (acquire then release, the
    // uncontended path) sets and clears no timer.
    this.#watch = new LeaseWatch(
      init.backendLock,
      this,
      { leaseMs: init.leaseMs, renew: init.renew, armLater: true },
      this.#expiresAt,
    );
    // The store's signal is read and watched after this tick too: a lock with a signal of its own
    // (a handed-over one) costs tens of µs to make it and subscribe, which its caller would
    // otherwise wait for before it starts.
    scheduleAfterTick(this);
  }

  /** {@link AfterTickTask}: the tick the lock was taken in is over. @internal */
  runAfterTick(): void {
    this.#watch.armIfIdle();
    this.#watchStore(false);
  }

  /**
   * Listen for the store's loss signal. `fromReader`: a reader of the lock caught it aborted within
   * the tick the lock was taken in; the lock is lost at once for that reader, and the loss is
   * reported a microtask later, as events never fire from inside a property read.
   */
  #watchStore(fromReader: boolean): void {
    if (this.#storeWatched) return;
    this.#storeWatched = true;
    const lostSignal = this.backendLock.lostSignal;
    if (!lostSignal || this.#released || this.#lostError) return;
    const storeLost = () => {
      // The release is under way (retire() came first): giving the lock back is what ends it.
      if (this.#released) return;
      if (this.markLost(STORE_LOST, lostSignal.reason)) this.#listener.reportLost(this);
    };
    if (!lostSignal.aborted) {
      // Unsubscribed at release or loss: a backend may share one lostSignal between many locks
      // (one per connection), and a listener left on it would keep every finished lock alive.
      this.#unsubscribeStore = onAbort(lostSignal, storeLost);
    } else if (!fromReader) {
      storeLost();
    } else if (this.markLost(STORE_LOST, lostSignal.reason)) {
      queueMicrotask(() => this.#listener.reportLost(this));
    }
  }

  /**
   * The store's signal may have aborted in the tick the lock was taken in, before it is watched: a
   * caller that looks at the lock (or releases it) then still learns of the loss at once.
   */
  #catchUpWithStore(): void {
    if (!this.#storeWatched && this.backendLock.lostSignal?.aborted) this.#watchStore(true);
  }

  get fencingToken(): number | undefined {
    return this.backendLock.fencingToken;
  }
  get signal(): AbortSignal {
    this.#catchUpWithStore();
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#lostError) this.#controller.abort(this.#lostError);
    }
    return this.#controller.signal;
  }
  get expiresAt(): number {
    // The backend may have extended the lease by itself (see LeaseWatch): the later one holds.
    return Math.max(this.#expiresAt, this.backendLock.expiresAt);
  }
  get released(): boolean {
    return this.#released;
  }
  get lostError(): LockLostError | undefined {
    this.#catchUpWithStore();
    return this.#lostError;
  }

  /** The live, read-only view user code gets (made on first use: most locks are never looked at). */
  get view(): LockView {
    this.#view ??= new LockView(this);
    return this.#view;
  }

  /** {@link LeaseListener}: the watch renewed the lease. */
  leaseRenewed(expiresAt: number): void {
    this.#expiresAt = expiresAt;
    this.#listener.reportRenewed(this);
  }

  /** {@link LeaseListener}: a renewal failed (retried while the lease lasts). */
  leaseRenewalFailed(error: unknown): void {
    this.#listener.reportRenewalFailed(this, error);
  }

  /** {@link LeaseListener}: the lease ran out, or the store no longer has the lock. */
  leaseRanOut(cause: unknown): void {
    if (this.markLost('its lease ran out before it could be renewed', cause)) this.#listener.reportLost(this);
  }

  /** Renew at once (after an event-loop stall); a lock that is not renewed is left alone. */
  renewNow(): void {
    this.#watch.renewNow();
  }

  /** Record a manual extension. */
  extended(expiresAt: number): void {
    this.#expiresAt = expiresAt;
    this.#watch.extended(expiresAt);
  }

  /** Mark the lock lost and abort its signal. Returns false if it was already lost or released. */
  markLost(detail: string, cause?: unknown): boolean {
    if (this.#lostError) return false;
    this.#watch.stop();
    this.stopWatchingStore();
    this.#lostError = new LockLostError(this.key, this.backend, detail, cause);
    this.#controller?.abort(this.#lostError);
    return true;
  }

  /** Stop renewing and mark the lock released, before it is released in the store. */
  retire(): void {
    // A loss the store signalled within the lock's first tick is still this lock's loss.
    this.#catchUpWithStore();
    this.#watch.stop();
    this.#released = true;
  }

  /**
   * Stop listening for the store's loss signal: called once the release was sent, as unsubscribing
   * costs more than the send (a signal that fires meanwhile is ignored: the lock is retired).
   */
  stopWatchingStore(): void {
    cancelAfterTick(this);
    this.#storeWatched = true;
    this.#unsubscribeStore?.();
    this.#unsubscribeStore = undefined;
  }

  /**
   * True the first time only, and only for a lock that took the local turn: the caller then hands
   * this key's turn to the next caller of this process. Happens at release, or earlier at a loss
   * (the lock is gone everywhere, so this process must not keep its own callers out longer than
   * other processes).
   */
  giveBackTurn(): boolean {
    if (!this.#holdsLocalTurn) return false;
    this.#holdsLocalTurn = false;
    return true;
  }
}
