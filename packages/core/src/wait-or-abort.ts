import { onAbort } from './abort-link.js';
import { MAX_DURATION_MS } from './duration.js';

/** How long {@link waitOrAbort} waits, and what it does when it stops waiting. */
export interface WaitOrAbortOptions {
  /** Stop waiting when it aborts: rejects with its reason. */
  readonly signal?: AbortSignal | undefined;
  /** Stop waiting after this many ms (any length: beyond 2^31-1 ms the timer is re-armed): rejects with `timeoutError()`. */
  readonly timeoutMs: number;
  /** The rejection when `timeoutMs` passes first. */
  readonly timeoutError: () => unknown;
  /**
   * Called once when the caller stops waiting (abort or timeout) while `promise` is still pending:
   * whatever it later yields belongs to nobody, so release what it may have granted.
   */
  readonly onAbandoned?: (() => void) | undefined;
  /**
   * Time the wait on this shared timer instead of a Node timer of its own (see
   * {@link SharedDeadlines}): for a caller that waits for many short replies in a row.
   */
  readonly deadlines?: SharedDeadlines | undefined;
}

/**
 * `promise`, unless `signal` aborts or `timeoutMs` passes first. One timer (or one entry in
 * `deadlines`) and at most one abort subscription per call, both gone when it settles, so a long
 * wait cannot pile them up. The building block for every store call a backend makes: a reply that
 * never comes (a paused link, a blackholed server) must not hang the caller.
 *
 * @example
 * const reply = await waitOrAbort(redis.evalsha(...), {
 *   signal,
 *   timeoutMs: 5_000,
 *   timeoutError: () => new LockBackendError('Redis did not answer within 5000 ms'),
 *   onAbandoned: () => releaseInBackground(),
 * });
 */
export function waitOrAbort<T>(promise: Promise<T>, options: WaitOrAbortOptions): Promise<T> {
  const { signal } = options;
  if (signal?.aborted) {
    options.onAbandoned?.();
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    new PendingWait(promise, options, resolve, reject);
  });
}

/** One wait of {@link waitOrAbort}: a single object holds its state (no closures but its own three). */
class PendingWait<T> implements DeadlineEntry {
  readonly due: number;
  index = -1;
  readonly #options: WaitOrAbortOptions;
  readonly #resolve: (value: T) => void;
  readonly #reject: (reason: unknown) => void;
  #timer: NodeJS.Timeout | undefined;
  #unsubscribe: (() => void) | undefined;
  #settled = false;

  constructor(
    promise: Promise<T>,
    options: WaitOrAbortOptions,
    resolve: (value: T) => void,
    reject: (reason: unknown) => void,
  ) {
    this.#options = options;
    this.#resolve = resolve;
    this.#reject = reject;
    const timeoutMs = Math.max(0, options.timeoutMs);
    // On the monotonic clock: a wall-clock step (NTP, a resumed VM) must not expire pending replies.
    this.due = performance.now() + timeoutMs;
    if (options.deadlines) options.deadlines.add(this);
    else this.#timer = setTimeout(expireWait, Math.min(timeoutMs, MAX_DURATION_MS), this);
    const { signal } = options;
    if (signal) this.#unsubscribe = onAbort(signal, () => this.#abandon(signal.reason));
    promise.then(
      (value) => {
        if (this.#settle()) this.#resolve(value);
      },
      (error: unknown) => {
        if (this.#settle()) this.#reject(error);
      },
    );
  }

  /** The timeout passed ({@link SharedDeadlines} or the own timer). @internal */
  expire(): void {
    // Node fires a timer set beyond 2^31-1 ms after 1 ms: wait out the rest in slices.
    if (this.#timer !== undefined && performance.now() < this.due) {
      this.#timer = setTimeout(expireWait, Math.min(this.due - performance.now(), MAX_DURATION_MS), this);
      return;
    }
    this.#timer = undefined;
    this.#abandon(this.#options.timeoutError());
  }

  #abandon(error: unknown): void {
    if (!this.#settle()) return;
    this.#options.onAbandoned?.();
    this.#reject(error);
  }

  /** True the first time: stop the timer and the abort subscription. */
  #settle(): boolean {
    if (this.#settled) return false;
    this.#settled = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    else this.#options.deadlines?.remove(this);
    this.#unsubscribe?.();
    return true;
  }
}

function expireWait(wait: DeadlineEntry): void {
  wait.expire();
}

/** What {@link SharedDeadlines} times: `expire()` is called once `due` (`performance.now()` ms) has come. */
interface DeadlineEntry {
  readonly due: number;
  /** Its place in the timer's heap; -1 while not in it. */
  index: number;
  expire(): void;
}

/**
 * One Node timer for many waits that each end at their own time (replies to store commands): the
 * waits are kept in a heap by deadline and the timer is armed for the earliest. A wait that ends
 * first only leaves the heap: the timer is not cleared, just unref'd once nobody waits, and it
 * stops at its next firing if nobody waits then. So a process that sends command after command
 * does not set and clear a Node timer for each (each of those was a timer list created and
 * dropped, the most expensive part of an uncontended lock call on the client).
 *
 * @example
 * readonly #deadlines = new SharedDeadlines();
 * await waitOrAbort(reply, { timeoutMs: 5_000, timeoutError, deadlines: this.#deadlines });
 */
export class SharedDeadlines {
  readonly #heap: DeadlineEntry[] = [];
  #timer: NodeJS.Timeout | undefined;
  /** When the timer fires; +Infinity without one. */
  #timerDue = Number.POSITIVE_INFINITY;

  /** Waits still pending (for tests). */
  get size(): number {
    return this.#heap.length;
  }

  /** Time `entry` (a wait of `waitOrAbort`). @internal */
  add(entry: DeadlineEntry): void {
    const heap = this.#heap;
    entry.index = heap.length;
    heap.push(entry);
    this.#siftUp(entry.index);
    // A timer already due but not fired yet (a busy event loop, or a clock that stepped) is
    // re-armed rather than trusted.
    if (entry.due < this.#timerDue || this.#timerDue <= performance.now()) this.#arm(heap[0]!.due);
    else if (heap.length === 1) this.#timer?.ref();
  }

  /** Stop timing `entry` (it settled first). @internal */
  remove(entry: DeadlineEntry): void {
    const at = entry.index;
    if (at < 0) return;
    entry.index = -1;
    const heap = this.#heap;
    const last = heap.pop()!;
    if (last !== entry) {
      heap[at] = last;
      last.index = at;
      this.#siftDown(at);
      this.#siftUp(last.index);
    }
    // Armed for a wait that is over: leave it (it re-arms or stops when it fires), but it must
    // not keep the process alive for nobody.
    if (heap.length === 0) this.#timer?.unref();
  }

  /** The timer fired. @internal */
  fire(): void {
    this.#timer = undefined;
    this.#timerDue = Number.POSITIVE_INFINITY;
    const heap = this.#heap;
    const now = performance.now();
    const due: DeadlineEntry[] = [];
    while (heap.length > 0 && heap[0]!.due <= now) {
      const entry = heap[0]!;
      this.remove(entry);
      due.push(entry);
    }
    // Armed for the waits left before any expire() runs, which may settle, add or throw.
    if (heap.length > 0 && this.#timer === undefined) this.#arm(heap[0]!.due);
    for (const entry of due) entry.expire();
  }

  #arm(due: number): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timerDue = due;
    this.#timer = setTimeout(
      fireDeadlines,
      Math.min(Math.max(0, due - performance.now()), MAX_DURATION_MS),
      this,
    );
  }

  #siftUp(at: number): void {
    const heap = this.#heap;
    const entry = heap[at]!;
    while (at > 0) {
      const parentAt = (at - 1) >> 1;
      const parent = heap[parentAt]!;
      if (parent.due <= entry.due) break;
      heap[at] = parent;
      parent.index = at;
      at = parentAt;
    }
    heap[at] = entry;
    entry.index = at;
  }

  #siftDown(at: number): void {
    const heap = this.#heap;
    const entry = heap[at]!;
    const length = heap.length;
    for (;;) {
      const leftAt = 2 * at + 1;
      if (leftAt >= length) break;
      const rightAt = leftAt + 1;
      const childAt = rightAt < length && heap[rightAt]!.due < heap[leftAt]!.due ? rightAt : leftAt;
      const child = heap[childAt]!;
      if (child.due >= entry.due) break;
      heap[at] = child;
      child.index = at;
      at = childAt;
    }
    heap[at] = entry;
    entry.index = at;
  }
}

function fireDeadlines(deadlines: SharedDeadlines): void {
  deadlines.fire();
}
