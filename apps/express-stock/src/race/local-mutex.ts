/**
 * An in-process mutex per key: the "we added a lock" fix that works on one server and silently
 * stops working the moment a second server runs. The demo's `local` strategy.
 *
 * @example
 * const mutex = new LocalMutex();
 * await mutex.run('stock:p-1', () => decrease());
 */
export class LocalMutex {
  readonly #tails = new Map<string, Promise<void>>();

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    let unlock!: () => void;
    const tail = new Promise<void>((resolve) => {
      unlock = resolve;
    });
    this.#tails.set(key, tail);
    await previous;
    try {
      return await fn();
    } finally {
      unlock();
      // Forget the key once nobody queued behind us, so the map does not grow with every product.
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    }
  }
}
