import type { HeldLock } from './held-lock.js';
import type { LockEventSink } from './lock-events.js';

/** How often the guard looks at the clock while this process holds a lock. */
const TICK_MS = 50;

/**
 * Notices event-loop stalls (a long synchronous parse, a GC pause, a frozen process) while locks
 * are held: no lease timer can run during one, so a stall can cost a lock. A cheap tick check (one
 * unref'd timer per manager, only while it holds a lock, and one tick after) measures how late the tick came. A stall
 * longer than `alarmShare` of a held lock's renewal margin (the two thirds of the lease between a
 * due renewal and the lease end) is reported as a `lag` event with the keys at risk, and those
 * locks are renewed at once if their lease is not over yet. An `await`, however long, is no stall.
 */
export class LagGuard {
  readonly #locks: () => Iterable<HeldLock>;
  readonly #emit: LockEventSink;
  readonly #alarmShare: number;
  #timer: NodeJS.Timeout | undefined;
  #expectedAt = 0;
  #holding = false;

  constructor(options: {
    readonly locks: () => Iterable<HeldLock>;
    readonly emit: LockEventSink;
    readonly alarmShare: number;
  }) {
    this.#locks = options.locks;
    this.#emit = options.emit;
    this.#alarmShare = options.alarmShare;
  }

  /** Call whenever the number of held locks changed. */
  watch(heldCount: number): void {
    // Started with the first lock, stopped by the first tick that finds none: a process that
    // takes and releases locks one after another must not set and clear a timer per lock.
    this.#holding = heldCount > 0;
    if (this.#holding && !this.#timer) this.#schedule();
  }

  #schedule(): void {
    this.#expectedAt = Date.now() + TICK_MS;
    this.#timer = setTimeout(() => this.#tick(), TICK_MS);
    // Watching locks must never keep a process alive on its own.
    this.#timer.unref();
  }

  #tick(): void {
    if (!this.#holding) {
      this.#timer = undefined;
      return;
    }
    const now = Date.now();
    const stalledMs = now - this.#expectedAt;
    this.#schedule();
    if (stalledMs <= 0) return;
    const atRisk: HeldLock[] = [];
    for (const lock of this.#locks()) {
      if (!lock.released && !lock.lostError && stalledMs >= (lock.leaseMs * 2 * this.#alarmShare) / 3)
        atRisk.push(lock);
    }
    if (atRisk.length === 0) return;
    const expired = atRisk.filter((lock) => lock.expiresAt <= now);
    this.#emit('lag', {
      stalledMs,
      keys: atRisk.map((lock) => lock.key),
      expiredKeys: expired.map((lock) => lock.key),
    });
    // A lease that survived the stall is renewed now rather than at its next scheduled time; one
    // that did not is reported lost by its own watchdog (no renewal may take it back).
    for (const lock of atRisk) if (lock.expiresAt > now) lock.renewNow();
  }
}
