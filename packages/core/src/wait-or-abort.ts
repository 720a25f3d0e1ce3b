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
}

/**
 * `promise`, unless `signal` aborts or `timeoutMs` passes first. One timer and at most one abort
 * subscription per call, both gone when it settles, so a long wait cannot pile them up. The
 * building block for every store call a backend makes: a reply that never comes (a paused link,
 * a blackholed server) must not hang the caller.
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
  const { signal, onAbandoned } = options;
  if (signal?.aborted) {
    onAbandoned?.();
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const settle = () => {
      settled = true;
      timer.clear();
      unsubscribe();
    };
    const abandon = (error: unknown) => {
      if (settled) return;
      settle();
      onAbandoned?.();
      reject(error);
    };
    const timer = longTimeout(() => abandon(options.timeoutError()), options.timeoutMs);
    const unsubscribe = signal ? onAbort(signal, () => abandon(signal.reason)) : () => {};
    promise.then(
      (value) => {
        if (settled) return;
        settle();
        resolve(value);
      },
      (error: unknown) => {
        if (settled) return;
        settle();
        reject(error);
      },
    );
  });
}

/**
 * `setTimeout` for any delay: Node fires a timer set beyond 2^31-1 ms after 1 ms, so a longer
 * delay is waited for in slices.
 */
function longTimeout(callback: () => void, delayMs: number): { clear(): void } {
  const dueAt = Date.now() + Math.max(0, delayMs);
  let handle: NodeJS.Timeout;
  const arm = () => {
    handle = setTimeout(
      () => (Date.now() >= dueAt ? callback() : arm()),
      Math.min(dueAt - Date.now(), MAX_DURATION_MS),
    );
  };
  arm();
  return { clear: () => clearTimeout(handle) };
}
