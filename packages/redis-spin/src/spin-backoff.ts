/**
 * Input of {@link backoffDelayMs}: which retry this is and the backoff settings.
 *
 * @example
 * backoffDelayMs({ retry: 3, minDelayMs: 10, maxDelayMs: 200, jitter: 0.5 });
 */
export interface BackoffOptions {
  /** 0 for the first retry. */
  readonly retry: number;
  /** Pause before the first retry, in ms; doubles with every retry. */
  readonly minDelayMs: number;
  /** Longest pause, in ms. */
  readonly maxDelayMs: number;
  /** 0..1: share of the delay drawn at random. */
  readonly jitter: number;
  /** Source of randomness in [0, 1); injectable for tests. */
  readonly random?: () => number;
}

/**
 * The pause before retry number `retry`: `minDelayMs * 2^retry` capped at `maxDelayMs`, of which
 * the share `jitter` is random (so waiters of many servers spread out instead of retrying together).
 *
 * @example
 * backoffDelayMs({ retry: 3, minDelayMs: 10, maxDelayMs: 200, jitter: 0.5 }); // between 40 and 80
 */
export function backoffDelayMs(options: BackoffOptions): number {
  const random = options.random ?? Math.random;
  const base = Math.min(options.maxDelayMs, options.minDelayMs * 2 ** Math.min(options.retry, 30));
  return base * (1 - options.jitter * random());
}
