import type { BenchResults } from './bench-results.js';
import type { ContentionMetrics } from './contention-metrics.js';
import { LIBRARIES, library } from './library-catalog.js';
import type { LibraryId } from './lock-adapter.js';
import type { UncontendedRow } from './uncontended-scenario.js';

/**
 * Lookups shared by the tables, the targets and the analysis.
 *
 * @example
 * const lookup = new ResultsLookup(results);
 * lookup.contention('dlock-pubsub', 64, 5)?.sentPerAcquisition;
 */
export class ResultsLookup {
  constructor(readonly results: BenchResults) {}

  uncontended(id: UncontendedRow['id']): UncontendedRow | undefined {
    return this.results.uncontended.find((row) => row.id === id);
  }

  /** The raw round trip of the store a row runs on (Redis GET or MySQL SELECT 1), p50 in µs. */
  floorUs(store: 'redis' | 'mysql' | 'memory'): number | undefined {
    if (store === 'memory') return undefined;
    return this.uncontended(store === 'redis' ? 'redis-floor' : 'mysql-floor')?.p50Us;
  }

  /** Fastest peer (lowest p50) in the uncontended table. */
  bestUncontendedPeer(): UncontendedRow | undefined {
    return this.results.uncontended
      .filter((row) => isLibrary(row.id) && library(row.id).family === 'peer')
      .sort((a, b) => a.p50Us - b.p50Us)[0];
  }

  contention(id: LibraryId, waiters: number, holdMs: number): ContentionMetrics | undefined {
    return this.results.contention.find(
      (row) => row.library === id && row.waiters === waiters && row.holdMs === holdMs,
    );
  }

  /** Rows of one configuration in catalog order (dlock first). */
  configuration(waiters: number, holdMs: number): ContentionMetrics[] {
    const order = (row: ContentionMetrics) =>
      LIBRARIES.findIndex((descriptor) => descriptor.id === row.library);
    return this.results.contention
      .filter((row) => row.waiters === waiters && row.holdMs === holdMs)
      .sort((a, b) => order(a) - order(b));
  }

  /** Peer with the highest throughput in one configuration. */
  bestPeer(waiters: number, holdMs: number): ContentionMetrics | undefined {
    return this.configuration(waiters, holdMs)
      .filter((row) => library(row.library).family === 'peer')
      .sort((a, b) => b.throughputPerSec - a.throughputPerSec)[0];
  }

  /** Waiter counts and holds that were actually measured, ascending / descending. */
  get waiters(): number[] {
    return [...new Set(this.results.contention.map((row) => row.waiters))].sort((a, b) => a - b);
  }

  get holds(): number[] {
    return [...new Set(this.results.contention.map((row) => row.holdMs))].sort((a, b) => b - a);
  }

  /** Libraries that have contention rows, in catalog order. */
  get contentionLibraries(): LibraryId[] {
    const measured = new Set(this.results.contention.map((row) => row.library));
    return this.results.plan.contentionLibraries.filter((id) => measured.has(id));
  }
}

/**
 * Whether an uncontended row id names a library (not a floor).
 *
 * @example
 * isLibrary('redis-floor'); // false
 */
export function isLibrary(id: UncontendedRow['id']): id is LibraryId {
  return id !== 'redis-floor' && id !== 'redis-floor-2' && id !== 'mysql-floor';
}
