import type { BackendLock } from './lock-backend.js';

/** What a {@link LeaseWatch} tells the lock it watches (the held lock itself: no closures per lock). */
export interface LeaseListener {
  /** After every successful renewal, with the new local expiry. */
  leaseRenewed(expiresAt: number): void;
  /** A renewal could not reach the store (it is retried while the lease lasts). */
  leaseRenewalFailed(error: unknown): void;
  /** Once, when the lock is found gone, or its lease ran out before a renewal succeeded. */
  leaseRanOut(cause: unknown): void;
}

export interface LeaseWatchSettings {
  readonly leaseMs: number;
  /** Renew at all? A handle from `acquire()` without `autoRenew` only watches its expiry. */
  readonly renew: boolean;
  /**
   * Leave the timer unarmed until the owner calls {@link LeaseWatch.armIfIdle} (a held lock does once
   * its tick is over: a lock released within that tick never sets a timer). The timer is armed for
   * the same times either way (no timer can fire within the tick).
   */
  readonly armLater?: boolean | undefined;
}

const MIN_RETRY_DELAY_MS = 10;

/**
 * Keeps one held lock alive: renews the lease every `leaseMs / 3`, retries a failed renewal while
 * the lease lasts, and declares the lock lost when the lease runs out first. The expiry watchdog
 * is separate from the renewal call so that a renewal that hangs (store unreachable, commands
 * queued offline) still ends in a reported loss on time. Never throws, never leaves a rejected promise.
 */
export class LeaseWatch {
  readonly #lock: BackendLock;
  readonly #listener: LeaseListener;
  readonly #leaseMs: number;
  readonly #renews: boolean;
  /**
   * One timer for whichever comes first, the next renewal or the expiry: a held lock pays for one
   * Node timer, not two (heap per held lock, issue #18).
   */
  #timer: NodeJS.Timeout | undefined;
  #expiresAt: number;
  /** When the next renewal starts; +Infinity while none is due (not renewing, or one under way). */
  #renewAt = Number.POSITIVE_INFINITY;
  #stopped = false;
  #renewing = false;
  #lastRenewalError: unknown;

  constructor(lock: BackendLock, listener: LeaseListener, settings: LeaseWatchSettings, expiresAt: number) {
    this.#lock = lock;
    this.#listener = listener;
    this.#leaseMs = settings.leaseMs;
    this.#renews = settings.renew;
    this.#expiresAt = expiresAt;
    if (this.#renews) this.#renewAt = Date.now() + this.#leaseMs / 3;
    if (!settings.armLater) this.#arm();
  }

  /** Arm a watch made with `armLater`, unless it was stopped or armed meanwhile. */
  armIfIdle(): void {
    if (!this.#stopped && this.#timer === undefined && !this.#renewing) this.#arm();
  }

  /** Stop renewing and watching (the scope ended or the lock is being released). */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  /**
   * Renew now instead of at the next scheduled time (after an event-loop stall ate into the
   * lease). Does nothing for a watch that does not renew, is stopped, or is renewing already.
   */
  renewNow(): void {
    if (!this.#renews || this.#stopped || this.#renewing) return;
    void this.#renew();
  }

  /** Tell the watch the lease was extended by hand (`handle.extend`). */
  extended(expiresAt: number): void {
    if (this.#stopped) return;
    this.#expiresAt = expiresAt;
    this.#arm();
  }

  #arm(): void {
    clearTimeout(this.#timer);
    if (this.#stopped) return;
    const at = Math.min(this.#renewAt, this.#expiresAt);
    this.#timer = Number.isFinite(at) ? unrefTimer(this, at - Date.now()) : undefined;
  }

  /** The timer fired: renew, or check the expiry, whichever is due. @internal */
  timerFired(): void {
    const now = Date.now();
    // The expiry first: a lease that ran out is lost, not renewed.
    if (now >= this.#expiresAt) this.#expired();
    else if (now >= this.#renewAt) void this.#renew();
    // A timer may fire a millisecond early: wait for the rest.
    else this.#arm();
  }

  /**
   * The expiry we armed has come. A backend may have extended the lease by itself since (its
   * `expiresAt` grew, e.g. a pub/sub waiter that took a handed-over lock on its pickup lease and
   * then claimed its full lease in the background): follow it instead of reporting a loss.
   */
  #expired(): void {
    const current = this.#lock.expiresAt;
    if (Number.isFinite(current) && current > Date.now()) {
      this.#expiresAt = current;
      this.#arm();
    } else {
      this.#lose(this.#lastRenewalError);
    }
  }

  #lose(cause: unknown): void {
    if (this.#stopped) return;
    this.stop();
    this.#listener.leaseRanOut(cause);
  }

  /** Renew in `delayMs` (the expiry is still watched meanwhile). */
  #scheduleRenewal(delayMs: number): void {
    this.#renewAt = Date.now() + delayMs;
    this.#arm();
  }

  async #renew(): Promise<void> {
    if (this.#renewing) return;
    this.#renewing = true;
    // Until it answers, only the expiry is watched: a renewal that hangs still ends in a loss.
    this.#renewAt = Number.POSITIVE_INFINITY;
    this.#arm();
    const leaseMs = this.#leaseMs;
    const sentAt = Date.now();
    try {
      const stillOurs = await this.#lock.extend(leaseMs);
      if (this.#stopped) return;
      if (!stillOurs) return this.#lose(undefined);
      const expiresAt = sentAt + leaseMs;
      this.#expiresAt = expiresAt;
      this.#listener.leaseRenewed(expiresAt);
      this.#scheduleRenewal(leaseMs / 3);
    } catch (error) {
      this.#lastRenewalError = error;
      if (this.#stopped) return;
      this.#listener.leaseRenewalFailed(error);
      // Store unreachable: retry while the lease lasts; the expiry reports the loss.
      this.#scheduleRenewal(Math.max(MIN_RETRY_DELAY_MS, leaseMs / 6));
    } finally {
      this.#renewing = false;
    }
  }
}

function unrefTimer(watch: LeaseWatch, delayMs: number): NodeJS.Timeout {
  // The watch as the timer's argument, not a closure over it: no function per held lock.
  const timer = setTimeout(fireTimer, Math.max(0, delayMs), watch);
  // Lease bookkeeping must never keep a process alive on its own: the critical section does that.
  timer.unref();
  return timer;
}

function fireTimer(watch: LeaseWatch): void {
  watch.timerFired();
}
