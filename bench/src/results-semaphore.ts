import type { ContentionMetrics } from './contention-metrics.js';
import { LIBRARIES, library } from './library-catalog.js';
import { cell, markdownTable, times } from './number-format.js';
import type { ResultsLookup } from './results-lookup.js';
import type { TargetCheck } from './results-targets.js';

/** The semaphore goal of issue #12: at most this many commands sent per acquisition... */
const SENT_GOAL = 3;
/** ...and "flat with W": the largest W may cost at most this much more than the smallest. */
const FLAT_TOLERANCE = 1.25;

/** The semaphore rows by W, then in catalog order (dlock first), whatever order they ran in. */
function rowsOf(lookup: ResultsLookup): readonly ContentionMetrics[] {
  const order = (row: ContentionMetrics) =>
    LIBRARIES.findIndex((descriptor) => descriptor.id === row.library);
  return [...(lookup.results.semaphore ?? [])].sort((a, b) => a.waiters - b.waiters || order(a) - order(b));
}

/**
 * The semaphore table (scenario 8), empty when the scenario did not run.
 *
 * @example
 * sections.push(...semaphoreSection(lookup));
 */
export function semaphoreSection(lookup: ResultsLookup): string[] {
  const rows = rowsOf(lookup);
  if (rows.length === 0) return [];
  const { plan } = lookup.results;
  const { permits, holdMs } = plan.semaphore;
  const table = rows.map((row) => {
    const descriptor = library(row.library);
    const peers = rows.filter(
      (other) => other.waiters === row.waiters && library(other.library).family === 'peer',
    );
    const best = Math.max(...peers.map((other) => other.throughputPerSec));
    return [
      String(row.waiters),
      descriptor.family === 'dlock' ? `**${descriptor.label}**` : descriptor.label,
      cell(row.throughputPerSec, 0),
      peers.length > 0 ? times(row.throughputPerSec, best) : '—',
      cell(row.waitP50Ms, 1),
      cell(row.waitP99Ms, 0),
      cell(row.waitP99Ms / row.fairShareWaitMs, 1),
      cell(row.sentPerAcquisition, 2),
      cell(row.executedPerAcquisition, 1),
      `${row.starvedWorkers} (${row.idleWorkers})`,
      row.overlaps === 0
        ? `${row.maxConcurrent ?? '—'}`
        : `**${row.maxConcurrent}: FAILED** (${row.overlaps} above)`,
      row.errors === 0 ? '' : `${row.errors} errors: ${row.firstErrors[0] ?? ''}`,
    ];
  });
  return [
    [
      `## Semaphore: ${permits} permits, W waiters`,
      '',
      `One semaphore of ${permits} permits; W workers spread over ${plan.processes} OS processes loop take one permit -> hold ${holdMs} ms -> release. ` +
        `One round of ${plan.windowMs / 1000} s after a ${plan.warmupMs} ms warm-up per library and W. ` +
        `"fair" is W x the mean time between one worker's acquisitions (what a FIFO queue would give everyone); "max holders" is the most critical sections that overlapped, from the holders' timestamps on the shared monotonic clock (must be at most ${permits}).`,
      '',
      markdownTable(
        [
          'W',
          'library',
          'acq/s',
          'vs peer',
          'wait p50 ms',
          'wait p99 ms',
          'p99 / fair',
          'cmds sent/acq',
          'executed/acq',
          'starved (none)',
          `max holders (≤ ${permits})`,
          'errors',
        ],
        table,
      ),
    ].join('\n'),
  ];
}

/**
 * The semaphore goals of issue #12, for the dlock pub/sub semaphore (the recommended backend for
 * waiting callers): at most 3 commands sent per acquisition, flat with W, nobody starved, never more
 * holders than permits (the last for every dlock semaphore).
 *
 * @example
 * checks.push(...semaphoreTargets(lookup));
 */
export function semaphoreTargets(lookup: ResultsLookup): TargetCheck[] {
  const rows = rowsOf(lookup);
  const { permits } = lookup.results.plan.semaphore;
  const pubsub = rows
    .filter((row) => row.library === 'dlock-pubsub-semaphore')
    .sort((a, b) => a.waiters - b.waiters);
  const first = pubsub[0];
  const last = pubsub.at(-1);
  if (!first || !last) {
    return [
      {
        target: '#12 pub/sub semaphore: at most 3 commands sent per acquisition',
        measured: 'not measured',
        met: undefined,
      },
    ];
  }
  const sent = pubsub.map((row) => `${cell(row.sentPerAcquisition, 2)} at W=${row.waiters}`).join(', ');
  const dlock = rows.filter((row) => library(row.library).family === 'dlock');
  return [
    {
      target: `#12 pub/sub semaphore (${permits} permits): at most ${SENT_GOAL} commands sent per acquisition, flat with W (largest W at most ${FLAT_TOLERANCE}x the smallest)`,
      measured: sent,
      met:
        pubsub.every((row) => row.sentPerAcquisition <= SENT_GOAL) &&
        last.sentPerAcquisition <= FLAT_TOLERANCE * first.sentPerAcquisition,
    },
    {
      target: `#12 pub/sub semaphore: nobody starved (every worker at least a quarter of its fair share)`,
      measured: pubsub
        .map(
          (row) =>
            `${row.starvedWorkers} starved, p99 ${cell(row.waitP99Ms / row.fairShareWaitMs, 1)}x fair at W=${row.waiters}`,
        )
        .join('; '),
      met: pubsub.every((row) => row.starvedWorkers === 0),
    },
    {
      target: `#12 dlock semaphores: never more than ${permits} holders at once`,
      measured: dlock
        .map((row) => `${library(row.library).label} ${row.maxConcurrent} at W=${row.waiters}`)
        .join(', '),
      met: dlock.every((row) => row.overlaps === 0 && (row.maxConcurrent ?? 0) <= permits),
    },
  ];
}
