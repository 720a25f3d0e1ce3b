/**
 * How long one process may keep a key it takes back from its own releases, and how long it then
 * leaves the key free for others (see {@link KeyTurns}).
 *
 * @example
 * const settings: KeyTurnSettings = { turnMs: 100, yieldMs: 30, maxTurnScale: 16 };
 */
export interface KeyTurnSettings {
  /** A turn: how long this process keeps re-taking a key before it leaves it free once. */
  readonly turnMs: number;
  /** How long the key lies free after such a turn before this process tries again. */
  readonly yieldMs: number;
  /** The most a turn grows (x turnMs) while nobody else takes the key in the yields (doubling). */
  readonly maxTurnScale: number;
}

/**
 * The turn a lock taken by this process belongs to, kept by the held lock until its release.
 *
 * @example
 * const turn: KeyTurn = { startedAt: Date.now(), scale: 1, contendedAt: 0 };
 */
export interface KeyTurn {
  /** Epoch ms at which this process took the key after someone else had it (or nobody wanted it). */
  readonly startedAt: number;
  /** This turn may last `scale` x turnMs (grows while yields find nobody else waiting). */
  readonly scale: number;
  /**
   * Epoch ms of the latest sign that a caller elsewhere wanted the key (a release reporting a
   * caller turned away, or one of ours having had to wait for another holder); 0: none.
   */
  readonly contendedAt: number;
}

/**
 * What a caller does before its first attempt (see {@link KeyTurns.begin}).
 *
 * @example
 * const plan = turns.begin('orders:42', true);
 * if (plan.yieldUntil > Date.now()) await sleep(plan.yieldUntil - Date.now());
 */
export interface TurnPlan {
  /**
   * Epoch ms before which the caller must not try: the key lies free for other processes till
   * then. 0: try now.
   */
  readonly yieldUntil: number;
  /** The turn the lock continues if the first attempt (after the yield, if any) takes it. */
  readonly turn: KeyTurn;
}

/** The pauses between a waiting caller's retries (see `backoffDelayMs`). */
export interface RetryBackoff {
  readonly minDelayMs: number;
  readonly maxDelayMs: number;
  readonly jitter: number;
}

/** A window-bound caller's pauses vary by at most this share (see {@link KeyTurns.windowBackoff}). */
const MAX_WINDOW_JITTER = 0.25;

/** The most released keys remembered at once, whatever the release rate (memory stays bounded). */
const MAX_REMEMBERED_KEYS = 4_096;

/**
 * Why: a process's callers of one key queue locally, and the next one tries microseconds after
 * the release, while other processes' callers sleep in backoff: the key would stay in one process
 * as long as it has callers. This policy bounds that run (a "turn"): a process that keeps re-taking
 * a key (each acquisition within `yieldMs` of its own release) for `turnMs` makes its next
 * waiting caller hold back until the key has been free for `yieldMs`, so the retry of a caller of
 * another process, which has seen the key change hands while it waited and so retries more often
 * the longer it has waited (see {@link KeyTurns.windowBackoff}), lands in that window and takes the key.
 *
 * A yield that nobody used doubles the next turn (up to `maxTurnScale` times): a process alone on
 * a key pays a yield per long turn, not per short one. Losing the key resets it.
 *
 * Pure bookkeeping with an injectable clock; it never decides who holds a lock (the store does),
 * so it can only delay a caller, never let two hold one key. Memory: only keys released within the
 * last `yieldMs` are remembered, at most {@link MAX_REMEMBERED_KEYS}.
 *
 * @example
 * const turns = new KeyTurns({ turnMs: 100, yieldMs: 30, maxTurnScale: 16 });
 * const plan = turns.begin('orders:42', true);
 * // ...sleep until plan.yieldUntil, try; once taken, keep turns.taken(plan, tookFirstTry) with the lock...
 * turns.released('orders:42', turn, lock.othersWaited);
 */
export class KeyTurns {
  readonly settings: KeyTurnSettings;
  readonly #now: () => number;
  /** How long a sign that others want a key counts: a turn ends with a yield only within it. */
  readonly #contentionMemoryMs: number;
  /** Recently released keys, oldest release first (re-inserted on release, so in release order). */
  readonly #released = new Map<string, KeyTurn & { readonly releasedAt: number }>();

  constructor(settings: KeyTurnSettings, now: () => number = Date.now) {
    this.settings = settings;
    this.#now = now;
    this.#contentionMemoryMs = 2 * settings.turnMs * settings.maxTurnScale;
  }

  /**
   * A caller starts acquiring `key`: whether to hold back first, and which turn it continues.
   * Only a caller that may wait (`mayWait`) holds back: a try-once caller just tries.
   */
  begin(key: string, mayWait: boolean): TurnPlan {
    const now = this.#now();
    const last = this.#released.get(key);
    if (last) this.#released.delete(key);
    // Free for a whole yield since our release: others had their window, a new turn starts.
    if (!last || now - last.releasedAt >= this.settings.yieldMs) {
      return { yieldUntil: 0, turn: { startedAt: now, scale: 1, contendedAt: last?.contendedAt ?? 0 } };
    }
    // Nobody else has wanted the key lately (a process alone on a hot key): no window to leave.
    const contended = last.contendedAt > 0 && now - last.contendedAt < this.#contentionMemoryMs;
    if (!mayWait || !contended || now - last.startedAt < this.settings.turnMs * last.scale) {
      return {
        yieldUntil: 0,
        turn: { startedAt: last.startedAt, scale: last.scale, contendedAt: last.contendedAt },
      };
    }
    // Turn used up: leave the key free until a yield after our release. If we still take it
    // first after that, nobody else polled in the window: the next turn may be longer.
    return {
      yieldUntil: last.releasedAt + this.settings.yieldMs,
      turn: {
        startedAt: now,
        scale: Math.min(last.scale * 2, this.settings.maxTurnScale),
        contendedAt: last.contendedAt,
      },
    };
  }

  /**
   * The turn of a lock just taken: the planned one if the first attempt took it, a fresh one at
   * the base length if the caller had to wait for another holder first.
   */
  taken(plan: TurnPlan, firstAttempt: boolean): KeyTurn {
    const now = this.#now();
    // Waited for another holder: the key is wanted elsewhere.
    if (!firstAttempt) return { startedAt: now, scale: 1, contendedAt: now };
    // Taken after a yield: a new turn, counted from now.
    if (plan.yieldUntil > 0)
      return { startedAt: now, scale: plan.turn.scale, contendedAt: plan.turn.contendedAt };
    return plan.turn;
  }

  /**
   * This process released `key` (held in `turn`): a caller of ours taking it soon continues the
   * turn. `othersWaited`: the release reported a caller turned away while it was held.
   */
  released(key: string, turn: KeyTurn, othersWaited: boolean): void {
    const now = this.#now();
    this.#forgetOlderThan(now - this.settings.yieldMs);
    this.#released.delete(key);
    if (this.#released.size >= MAX_REMEMBERED_KEYS) this.#forgetOldest();
    this.#released.set(key, {
      startedAt: turn.startedAt,
      scale: turn.scale,
      contendedAt: othersWaited ? now : turn.contendedAt,
      releasedAt: now,
    });
  }

  /**
   * The backoff of a caller that has seen the key change hands behind its back while it waited
   * (see {@link changedHands}): the longer it has waited, the more often it retries, so the
   * process that has waited longest most likely takes the next yield window. Pauses of at most
   * `yieldMs x 2 turnMs / waitedMs` (never under `yieldMs`: from two turns on, every window gets a
   * retry), less the round trip, drawn from the top quarter below that (jitter at most 0.25), so it
   * sends no more retries than that takes. A caller behind one long hold keeps the backoff as
   * configured: polling faster would not help it, and thousands of such callers (one per key) must
   * not flood Redis.
   */
  windowBackoff(
    configured: RetryBackoff,
    wait: { readonly waitedMs: number; readonly roundTripMs: number },
  ): RetryBackoff {
    const { turnMs, yieldMs } = this.settings;
    const ceiling = yieldMs * Math.max(1, (2 * turnMs) / Math.max(1, wait.waitedMs));
    const maxDelayMs = Math.min(configured.maxDelayMs, Math.max(1, ceiling - wait.roundTripMs));
    return {
      minDelayMs: Math.min(configured.minDelayMs, maxDelayMs),
      maxDelayMs,
      jitter: Math.min(configured.jitter, MAX_WINDOW_JITTER),
    };
  }

  /** How many released keys are remembered now (for tests). */
  get rememberedKeys(): number {
    return this.#released.size;
  }

  #forgetOlderThan(cutoff: number): void {
    for (const [key, entry] of this.#released) {
      if (entry.releasedAt > cutoff) return;
      this.#released.delete(key);
    }
  }

  #forgetOldest(): void {
    const oldest = this.#released.keys().next();
    if (!oldest.done) this.#released.delete(oldest.value);
  }
}

/**
 * Whether the lock changed hands between two failed attempts: they read different holders' fencing
 * tokens (each acquisition draws a new one; an extend keeps it). A waiter that sees this keeps
 * missing short holds, not waiting out a long one. Unknown (an older script's reply) counts as no.
 *
 * @example
 * changedHands(attempt.holderFence, next.holderFence); // true when someone took it in between
 */
export function changedHands(before: number | undefined, after: number | undefined): boolean {
  return before !== undefined && after !== undefined && before !== after;
}
