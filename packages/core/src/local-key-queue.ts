import { onAbort } from './abort-link.js';

/** Result of asking for a key's local turn. */
export type LocalTurn = 'admitted' | 'busy' | 'timeout';

/**
 * In-process FIFO per key: only the caller at the head talks to the store, so fifty requests
 * waiting for one key in one server cost the store one waiter (and MySQL one connection).
 * An entry exists only while someone is inside, so distinct keys never accumulate.
 */
export class LocalKeyQueue {
  /** A key is in the map while someone has its turn; its queue is made with its first waiter. */
  readonly #waiting = new Map<string, KeyQueue | null>();

  /** Whether some caller of this process currently has the turn for `key`. */
  isEntered(key: string): boolean {
    return this.#waiting.has(key);
  }

  /**
   * Take the local turn for `key`. With `waitMs === 0` it never waits ('busy' if taken).
   * Rejects with `signal.reason` if the signal aborts first, or with the reason {@link abortAll}
   * is given.
   */
  enter(key: string, waitMs: number, signal: AbortSignal | undefined): Promise<LocalTurn> {
    if (this.tryEnter(key)) return Promise.resolve('admitted');
    if (waitMs <= 0) return Promise.resolve('busy');
    if (signal?.aborted) return Promise.reject(signal.reason);
    return this.wait(new PromisedTurn(key), waitMs, signal).turn;
  }

  /** Take the turn for `key` now if nobody of this process has it. */
  tryEnter(key: string): boolean {
    if (this.#waiting.has(key)) return false;
    this.#waiting.set(key, null);
    return true;
  }

  /**
   * Queue `waiter` for its key's turn, behind whoever has it (call after {@link tryEnter} said no),
   * for at most `waitMs`; `signal` ends the wait early (a microtask later if it is aborted already).
   */
  wait<W extends LocalWaiter>(waiter: W, waitMs: number, signal: AbortSignal | undefined): W {
    let queue = this.#waiting.get(waiter.key);
    if (queue === undefined) throw new Error(`LocalKeyQueue.wait: nobody holds the turn for ${waiter.key}`);
    if (queue === null) {
      queue = new KeyQueue();
      this.#waiting.set(waiter.key, queue);
    }
    waiter.start(this, Date.now() + waitMs, signal);
    queue.add(waiter);
    return waiter;
  }

  /** Give the turn for `key` to the next local waiter, or forget the key. */
  leave(key: string): void {
    const queue = this.#waiting.get(key);
    if (queue === undefined) return;
    const next = queue?.next();
    if (next) next.admit();
    else this.#waiting.delete(key);
  }

  /** Take a waiter that gives up out of its key's queue. */
  remove(waiter: LocalWaiter): void {
    this.#waiting.get(waiter.key)?.remove(waiter);
  }

  /**
   * Every waiter gives up with `reason` (the manager is closing). Waiters without a signal of
   * their own subscribe to nothing: this is how they learn of the close.
   */
  abortAll(reason: unknown): void {
    for (const queue of [...this.#waiting.values()]) {
      if (queue) for (const waiter of [...queue.waiters]) waiter.giveUp(reason, false);
    }
  }
}

/**
 * The callers of this process waiting for one key, in arrival order, and one timer for all of
 * them, armed for the earliest deadline: a Node timer costs more heap than the rest of a waiter.
 */
class KeyQueue {
  readonly waiters: LocalWaiter[] = [];
  /** Deadlines grow along the queue (the usual case: one call site, one wait): no scan needed. */
  #inDeadlineOrder = true;
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Number.POSITIVE_INFINITY;

  add(waiter: LocalWaiter): void {
    const last = this.waiters.at(-1);
    if (last && waiter.deadline < last.deadline) this.#inDeadlineOrder = false;
    this.waiters.push(waiter);
    if (waiter.deadline < this.#timerAt) this.#arm(waiter.deadline);
  }

  /** The next waiter, taken out of the queue (its deadline no longer matters). */
  next(): LocalWaiter | undefined {
    const next = this.waiters.shift();
    if (this.waiters.length === 0) this.#arm(Number.POSITIVE_INFINITY);
    return next;
  }

  remove(waiter: LocalWaiter): void {
    const at = this.waiters.indexOf(waiter);
    if (at >= 0) this.waiters.splice(at, 1);
    // Nobody left to time out: a timer must not keep the process alive for nobody.
    if (this.waiters.length === 0) this.#arm(Number.POSITIVE_INFINITY);
  }

  /** The timer fired: time out every waiter whose deadline passed, then wait for the next one. */
  expire(): void {
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
    const now = Date.now();
    const due = this.#inDeadlineOrder
      ? this.waiters.slice(
          0,
          countWhile(this.waiters, (waiter) => waiter.deadline <= now),
        )
      : this.waiters.filter((waiter) => waiter.deadline <= now);
    for (const waiter of due) waiter.giveUp(undefined, true);
    const earliest = this.#inDeadlineOrder
      ? (this.waiters[0]?.deadline ?? Number.POSITIVE_INFINITY)
      : this.waiters.reduce((min, waiter) => Math.min(min, waiter.deadline), Number.POSITIVE_INFINITY);
    this.#arm(earliest);
  }

  #arm(at: number): void {
    clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = Number.isFinite(at) ? setTimeout(expireDue, Math.max(0, at - Date.now()), this) : undefined;
  }
}

function expireDue(queue: KeyQueue): void {
  queue.expire();
}

/** How many items from the start of `items` match `test`. */
function countWhile<T>(items: readonly T[], test: (item: T) => boolean): number {
  let count = 0;
  while (count < items.length && test(items[count]!)) count++;
  return count;
}

/**
 * One caller waiting for a key's turn, as one small object (its key's queue keeps the timer, and
 * only a caller with a signal of its own subscribes to anything): a thousand callers queued behind
 * a slow holder should cost a thousand small records, not a thousand nests of closures, timers and
 * suspended async frames (heap per local waiter, issue #18). A subclass says what the outcome
 * means for its caller.
 */
export abstract class LocalWaiter {
  /** Epoch ms at which the wait is over. */
  deadline = Number.POSITIVE_INFINITY;
  #owner: LocalKeyQueue | undefined;
  #unsubscribe: (() => void) | undefined;
  /**
   * `handed`: given the turn, delivered a microtask later, so a caller that aborts in the same
   * tick still gets its abort (and the turn goes on to the next caller instead of being lost).
   */
  #state: 'waiting' | 'handed' | 'done' = 'waiting';

  /** The key whose turn this waiter waits for. */
  abstract readonly key: string;

  /** The turn is ours (the queue gave it to us). */
  protected abstract turnGiven(): void;
  /** The wait ran out first. */
  protected abstract timedOut(): void;
  /** The caller's signal aborted, or the manager closed, first. */
  protected abstract aborted(reason: unknown): void;

  /** Called by the queue when this waiter joins it. */
  start(owner: LocalKeyQueue, deadline: number, signal: AbortSignal | undefined): void {
    this.#owner = owner;
    this.deadline = deadline;
    // Aborted already (by a listener of the call's own events): give up as soon as the caller
    // can hear it, instead of waiting out the whole wait.
    if (signal?.aborted) queueMicrotask(() => this.giveUp(signal.reason, false));
    else if (signal) this.#unsubscribe = onAbort(signal, () => this.giveUp(signal.reason, false));
  }

  admit(): void {
    if (this.#state !== 'waiting') return;
    this.#state = 'handed';
    queueMicrotask(() => this.#deliver());
  }

  /** Stop waiting: time out, or abort with `reason`. */
  giveUp(reason: unknown, timedOut: boolean): void {
    if (this.#state === 'done') return;
    const handed = this.#state === 'handed';
    this.#finish();
    if (handed) this.#owner!.leave(this.key);
    else this.#owner!.remove(this);
    if (timedOut) this.timedOut();
    else this.aborted(reason);
  }

  #deliver(): void {
    if (this.#state !== 'handed') return;
    this.#finish();
    this.turnGiven();
  }

  #finish(): void {
    this.#state = 'done';
    this.#unsubscribe?.();
  }
}

/** A waiter whose outcome is a promise of its turn. */
class PromisedTurn extends LocalWaiter {
  readonly key: string;
  readonly turn: Promise<LocalTurn>;
  #resolve!: (turn: LocalTurn) => void;
  #reject!: (reason: unknown) => void;

  constructor(key: string) {
    super();
    this.key = key;
    this.turn = new Promise<LocalTurn>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  protected turnGiven(): void {
    this.#resolve('admitted');
  }
  protected timedOut(): void {
    this.#resolve('timeout');
  }
  protected aborted(reason: unknown): void {
    this.#reject(reason);
  }
}
