import { onAbort } from './abort-link.js';

/** Result of asking for a key's local turn. */
export type LocalTurn = 'admitted' | 'busy' | 'timeout';

/**
 * In-process FIFO per key: only the caller at the head talks to the store, so fifty requests
 * waiting for one key in one server cost the store one waiter (and MySQL one connection).
 * An entry exists only while someone is inside, so distinct keys never accumulate.
 */
export class LocalKeyQueue {
  readonly #waiting = new Map<string, LocalWaiter[]>();

  /** Whether some caller of this process currently has the turn for `key`. */
  isEntered(key: string): boolean {
    return this.#waiting.has(key);
  }

  /**
   * Take the local turn for `key`. With `waitMs === 0` it never waits ('busy' if taken).
   * Rejects with `signal.reason` if the signal aborts first.
   */
  enter(key: string, waitMs: number, signal: AbortSignal): Promise<LocalTurn> {
    const queue = this.#waiting.get(key);
    if (!queue) {
      this.#waiting.set(key, []);
      return Promise.resolve('admitted');
    }
    if (waitMs <= 0) return Promise.resolve('busy');
    if (signal.aborted) return Promise.reject(signal.reason);
    const waiter = new LocalWaiter(this, key, queue, waitMs, signal);
    queue.push(waiter);
    return waiter.turn;
  }

  /** Give the turn for `key` to the next local waiter, or forget the key. */
  leave(key: string): void {
    const queue = this.#waiting.get(key);
    if (!queue) return;
    const next = queue.shift();
    if (next) next.admit();
    else this.#waiting.delete(key);
  }
}

/**
 * One caller waiting for a key's turn, as one object with one timer and one abort subscription:
 * a thousand callers queued behind a slow holder should cost a thousand small records, not a
 * thousand nests of closures (heap per local waiter, issue #18).
 */
class LocalWaiter {
  readonly turn: Promise<LocalTurn>;
  #resolve!: (turn: LocalTurn) => void;
  #reject!: (reason: unknown) => void;
  readonly #owner: LocalKeyQueue;
  readonly #key: string;
  readonly #queue: LocalWaiter[];
  readonly #timer: NodeJS.Timeout;
  readonly #unsubscribe: () => void;
  /**
   * `handed`: given the turn, delivered a microtask later, so a caller that aborts in the same
   * tick still gets its abort (and the turn goes on to the next caller instead of being lost).
   */
  #state: 'waiting' | 'handed' | 'done' = 'waiting';

  constructor(owner: LocalKeyQueue, key: string, queue: LocalWaiter[], waitMs: number, signal: AbortSignal) {
    this.turn = new Promise<LocalTurn>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.#owner = owner;
    this.#key = key;
    this.#queue = queue;
    this.#timer = setTimeout(timeOut, waitMs, this);
    this.#unsubscribe = onAbort(signal, () => this.giveUp(signal.reason, false));
  }

  admit(): void {
    if (this.#state !== 'waiting') return;
    this.#state = 'handed';
    queueMicrotask(() => this.#deliver());
  }

  /** Stop waiting: resolve 'timeout', or reject with the abort reason. */
  giveUp(reason: unknown, timedOut: boolean): void {
    if (this.#state === 'done') return;
    const handed = this.#state === 'handed';
    this.#finish();
    if (handed) this.#owner.leave(this.#key);
    else this.#queue.splice(this.#queue.indexOf(this), 1);
    if (timedOut) this.#resolve('timeout');
    else this.#reject(reason);
  }

  #deliver(): void {
    if (this.#state !== 'handed') return;
    this.#finish();
    this.#resolve('admitted');
  }

  #finish(): void {
    this.#state = 'done';
    clearTimeout(this.#timer);
    this.#unsubscribe();
  }
}

function timeOut(waiter: LocalWaiter): void {
  waiter.giveUp(undefined, true);
}
