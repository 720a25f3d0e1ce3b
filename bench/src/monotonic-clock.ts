/**
 * Milliseconds on the machine's monotonic clock (`CLOCK_MONOTONIC` on Linux), with sub-microsecond
 * resolution. Unlike `performance.now()` (relative to each process's start), it is the SAME clock
 * in every process of the machine, so a release stamped in one worker process and the next acquire
 * stamped in another can be subtracted to get the handoff gap.
 *
 * @example
 * const startedAt = monotonicMs();
 * await work();
 * const tookMs = monotonicMs() - startedAt;
 */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/**
 * Resolve at the monotonic instant `atMs` (at once if it has passed).
 *
 * @example
 * await sleepUntil(monotonicMs() + 250);
 */
export function sleepUntil(atMs: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, atMs - monotonicMs())));
}
