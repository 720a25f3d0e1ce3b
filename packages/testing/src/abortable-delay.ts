/**
 * Resolve after `ms`, or reject with `signal.reason` as soon as `signal` aborts, as a
 * `LockBackend` must ("rejects when request.signal aborts").
 *
 * @example
 * await abortableDelay(50, request.signal);
 */
export function abortableDelay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
