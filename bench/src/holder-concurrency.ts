import type { Acquisition } from './contention-metrics.js';

/**
 * The most critical sections that ran at once, from the holders' own timestamps (one monotonic
 * clock for every process), and how many acquisitions began while `limit` others were running.
 * A section is [gotAt, releaseAt): taken after acquire resolved and ended before release was
 * called, so it never overstates a hold; touching ends (one releases as the next starts) do not
 * count as overlapping.
 *
 * @example
 * concurrencyOf(acquisitions, 4); // { maxConcurrent: 4, overLimit: 0 }
 */
export function concurrencyOf(
  acquisitions: readonly Acquisition[],
  limit: number,
): { readonly maxConcurrent: number; readonly overLimit: number } {
  // Ends sort before starts at the same instant.
  const events = acquisitions.flatMap((acquisition) => [
    { at: acquisition.gotAt, change: 1 },
    { at: acquisition.releaseAt, change: -1 },
  ]);
  events.sort((a, b) => a.at - b.at || a.change - b.change);
  let running = 0;
  let maxConcurrent = 0;
  let overLimit = 0;
  for (const event of events) {
    running += event.change;
    if (event.change > 0 && running > limit) overLimit++;
    maxConcurrent = Math.max(maxConcurrent, running);
  }
  return { maxConcurrent, overLimit };
}
