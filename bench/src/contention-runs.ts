import { FaultyLink } from '@dlock/testing';
import type { BenchPlan } from './bench-plan.js';
import { type ContentionMetrics, mergeRounds } from './contention-metrics.js';
import { type ContentionContext, type ContentionRound, runContentionRound } from './contention-scenario.js';
import type { LibraryId, StoreUrls } from './lock-adapter.js';
import { cell } from './number-format.js';
import { rotate } from './sample-stats.js';

/** What every multi-process scenario shares: where to run, how to report, which libraries to skip. */
export interface ContentionRuns {
  readonly context: ContentionContext;
  readonly plan: BenchPlan;
  /** Unique per bench run: part of every key. */
  readonly runId: string;
  readonly log: (line: string) => void;
  readonly unavailable: ReadonlyMap<LibraryId, string>;
  readonly markUnavailable: (id: LibraryId, reason: string) => void;
  /**
   * Counts configurations across all scenarios: the library order rotates by it, so drift on a
   * shared machine spreads over every library instead of always hitting the one that runs last.
   */
  readonly rotation: { next(): number };
}

/**
 * A counter for {@link ContentionRuns.rotation}.
 *
 * @example
 * const rotation = rotationCounter();
 */
export function rotationCounter(): { next(): number } {
  let configuration = 0;
  return { next: () => configuration++ };
}

type RoundShape = Omit<ContentionRound, 'library' | 'tag' | 'warmupMs' | 'windowMs' | 'waitMs'>;

/** One round of one library, or undefined when it cannot run here (marked unavailable). */
async function round(
  runs: ContentionRuns,
  id: LibraryId,
  shape: RoundShape,
  tag: string,
  context: ContentionContext = runs.context,
): Promise<ContentionMetrics | undefined> {
  const { plan } = runs;
  const outcome = await runContentionRound(context, {
    ...shape,
    library: id,
    warmupMs: plan.warmupMs,
    windowMs: plan.windowMs,
    waitMs: plan.waitMs,
    tag: `${runs.runId}:${tag}`,
  });
  if ('unavailable' in outcome) {
    runs.markUnavailable(id, outcome.unavailable);
    return undefined;
  }
  return outcome;
}

const exclusion = (row: ContentionMetrics) =>
  row.lostUpdates || row.overlaps
    ? `, EXCLUSION FAILED (${row.lostUpdates} lost, ${row.overlaps} overlaps)`
    : '';

/**
 * Scenario 3: every contention library at every W and hold, `contentionRounds` times, rounds merged.
 *
 * @example
 * const contention = await runContentionMatrix(runs);
 */
export async function runContentionMatrix(runs: ContentionRuns): Promise<ContentionMetrics[]> {
  const { plan } = runs;
  const rounds = new Map<string, ContentionMetrics[]>();
  for (let index = 0; index < plan.contentionRounds; index++) {
    for (const holdMs of plan.holdsMs) {
      for (const waiters of plan.waiters) {
        const available = plan.contentionLibraries.filter((id) => !runs.unavailable.has(id));
        const libraries = rotate(available, runs.rotation.next());
        for (const id of index % 2 === 1 ? libraries.reverse() : libraries) {
          const row = await round(runs, id, { waiters, holdMs }, `${id}:w${waiters}:h${holdMs}:r${index}`);
          if (!row) continue;
          runs.log(
            `  round ${index + 1} W=${waiters} hold=${holdMs} ms ${id}: ${row.throughputPerSec.toFixed(0)} acq/s, ` +
              `${cell(row.sentPerAcquisition, 1)} cmds/acq, wait p99 ${cell(row.waitP99Ms, 1)} ms` +
              (row.errors ? `, ${row.errors} errors (${row.firstErrors[0]})` : '') +
              exclusion(row),
          );
          const key = `${id}|${waiters}|${holdMs}`;
          rounds.set(key, [...(rounds.get(key) ?? []), row]);
        }
      }
    }
  }
  return [...rounds.values()].map(mergeRounds);
}

/**
 * Scenario 5: the contention rounds with every store connection through a `FaultyLink` that adds
 * `latencyMs` each way.
 *
 * @example
 * const network = await runNetworkRounds(runs, redisUrl);
 */
export async function runNetworkRounds(runs: ContentionRuns, redisUrl: string): Promise<ContentionMetrics[]> {
  const { plan } = runs;
  const network: ContentionMetrics[] = [];
  if (plan.network.libraries.length === 0) return network;
  const { latencyMs } = plan.network;
  runs.log(`contention through a FaultyLink, ${latencyMs} ms each way ...`);
  const linkTo = (url: string, defaultPort: number) => {
    const address = new URL(url);
    return FaultyLink.start({
      target: { host: address.hostname, port: Number(address.port || defaultPort) },
      latency: { upMs: latencyMs, downMs: latencyMs },
    });
  };
  const redisLink = await linkTo(redisUrl, 6379);
  const mysqlLink = await linkTo(runs.context.urls.mysqlUrl, 3306);
  const urls: StoreUrls = {
    redisUrl: redisLink.url(redisUrl),
    mysqlUrl: mysqlLink.url(runs.context.urls.mysqlUrl),
  };
  try {
    for (const holdMs of plan.network.holdsMs) {
      for (const waiters of plan.network.waiters) {
        for (const id of rotate([...plan.network.libraries], runs.rotation.next())) {
          if (runs.unavailable.has(id)) continue;
          const tag = `net:${id}:w${waiters}:h${holdMs}`;
          const row = await round(runs, id, { waiters, holdMs }, tag, { ...runs.context, urls });
          if (!row) continue;
          runs.log(
            `  ${latencyMs} ms link W=${waiters} hold=${holdMs} ms ${id}: ${row.throughputPerSec.toFixed(0)} acq/s, ` +
              `handoff p50 ${cell(row.handoffP50Ms, 2)} ms, wait p99 ${cell(row.waitP99Ms, 1)} ms${exclusion(row)}`,
          );
          network.push(mergeRounds([row]));
        }
      }
    }
  } finally {
    await redisLink.close();
    await mysqlLink.close();
  }
  return network;
}

/**
 * Scenario 7: W waiters over 1, 100, 10,000 keys.
 *
 * @example
 * const scale = await runScaleRounds(runs);
 */
export async function runScaleRounds(runs: ContentionRuns): Promise<ContentionMetrics[]> {
  const { scale: plan } = runs.plan;
  const scale: ContentionMetrics[] = [];
  if (plan.libraries.length === 0) return scale;
  runs.log(`scale: W=${plan.waiters} over ${plan.keys.join(', ')} keys ...`);
  for (const keys of plan.keys) {
    for (const id of rotate([...plan.libraries], runs.rotation.next())) {
      if (runs.unavailable.has(id)) continue;
      const row = await round(
        runs,
        id,
        { waiters: plan.waiters, holdMs: plan.holdMs, keys },
        `scale:${id}:k${keys}`,
      );
      if (!row) continue;
      runs.log(
        `  ${keys} keys ${id}: ${row.throughputPerSec.toFixed(0)} acq/s, ${cell(row.executedPerAcquisition, 1)} executed/acq, ` +
          `${cell(row.serverCpuUsPerAcquisition ?? Number.NaN, 1)} Redis CPU µs/acq`,
      );
      scale.push(row);
    }
  }
  return scale;
}

/**
 * Scenario 8: one semaphore of `permits` permits, W waiters over the worker processes.
 *
 * @example
 * const semaphore = await runSemaphoreRounds(runs);
 */
export async function runSemaphoreRounds(runs: ContentionRuns): Promise<ContentionMetrics[]> {
  const { semaphore: plan } = runs.plan;
  const rows: ContentionMetrics[] = [];
  if (plan.libraries.length === 0) return rows;
  runs.log(`semaphore: ${plan.permits} permits, W=${plan.waiters.join(', ')}, hold ${plan.holdMs} ms ...`);
  for (const waiters of plan.waiters) {
    for (const id of rotate([...plan.libraries], runs.rotation.next())) {
      if (runs.unavailable.has(id)) continue;
      const shape = { waiters, holdMs: plan.holdMs, permits: plan.permits };
      const row = await round(runs, id, shape, `sem:${id}:w${waiters}`);
      if (!row) continue;
      runs.log(
        `  W=${waiters} ${id}: ${row.throughputPerSec.toFixed(0)} acq/s, ${cell(row.sentPerAcquisition, 2)} cmds sent/acq, ` +
          `p99 / fair ${cell(row.waitP99Ms / row.fairShareWaitMs, 1)}, max ${row.maxConcurrent} holders at once` +
          (row.errors ? `, ${row.errors} errors (${row.firstErrors[0]})` : '') +
          (row.overlaps ? `, LIMIT EXCEEDED (${row.overlaps} acquisitions above ${plan.permits})` : ''),
      );
      rows.push(row);
    }
  }
  return rows;
}
