import type { BenchPlan } from './bench-plan.js';
import type { ContentionMetrics } from './contention-metrics.js';
import type { DecoratorOverhead } from './decorator-scenario.js';
import type { LibraryId } from './lock-adapter.js';
import type { MachineInfo } from './machine-info.js';
import type { MemoryRow } from './memory-scenario.js';
import type { UncontendedRow } from './uncontended-scenario.js';

/** Everything one run measured: the input of the table, the chart and the analysis. */
export interface BenchResults {
  readonly plan: BenchPlan;
  readonly machine: MachineInfo;
  readonly uncontended: readonly UncontendedRow[];
  /** One row per (library, waiters, hold), rounds merged. */
  readonly contention: readonly ContentionMetrics[];
  readonly decorator: DecoratorOverhead;
  /** Memory per held lock, waiter and released key (absent in results saved before it existed). */
  readonly memory?: readonly MemoryRow[];
  /** Contention through a FaultyLink with real latency, one row per (library, waiters, hold). */
  readonly network?: readonly ContentionMetrics[];
  /** W waiters spread over 1, 100, 10,000 keys (cost per acquisition as keys grow). */
  readonly scale?: readonly ContentionMetrics[];
  /** One semaphore of `plan.semaphore.permits` permits, one row per (library, waiters). */
  readonly semaphore?: readonly ContentionMetrics[];
  /** Libraries that could not run, with the reason. */
  readonly unavailable: ReadonlyMap<LibraryId, string>;
  readonly durationSec: number;
}

/**
 * Libraries that lost counter updates or overlapped (for a semaphore row: ran more holders at once
 * than its permits), and whether any of them is dlock's.
 *
 * @example
 * const { dlockFailed } = exclusionFailures(results.contention);
 */
export function exclusionFailures(rows: readonly ContentionMetrics[]): {
  readonly failures: readonly ContentionMetrics[];
  readonly dlockFailed: boolean;
} {
  const failures = rows.filter((row) => row.lostUpdates !== 0 || row.overlaps !== 0);
  return { failures, dlockFailed: failures.some((row) => row.library.startsWith('dlock-')) };
}
