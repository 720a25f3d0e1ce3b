/**
 * `start()`'s promise, with a synchronous throw (bad input) as its rejection. The public methods
 * are not `async`: an async wrapper would keep a promise and two resolving functions alive for
 * every caller waiting for its turn (heap per local waiter, issue #18).
 */
export function settle<T>(start: () => Promise<T>): Promise<T> {
  try {
    return start();
  } catch (error) {
    return Promise.reject(error);
  }
}

export function assertFunction(fn: unknown, method: string): void {
  if (typeof fn !== 'function') throw new TypeError(`${method}(keys, options, fn): fn must be a function.`);
}
