import { join } from 'node:path';
import type { Redis } from 'ioredis';
import {
  type Acquisition,
  type ContentionMetrics,
  contentionMetrics,
  decodeRecords,
} from './contention-metrics.js';
import type { ContentionResult, ContentionTiming } from './contention-protocol.js';
import { concurrencyOf } from './holder-concurrency.js';
import { library } from './library-catalog.js';
import type { LibraryId, StoreUrls } from './lock-adapter.js';
import { monotonicMs } from './monotonic-clock.js';
import { NonAtomicCounter } from './non-atomic-counter.js';
import {
  type CommandCalls,
  executedBetween,
  readCommandCalls,
  readServerCpuUs,
} from './redis-command-stats.js';
import type { WorkerPool } from './worker-pool.js';

/** One contended round: `waiters` callers spread over the pool's processes, one key. */
export interface ContentionRound {
  readonly library: LibraryId;
  readonly waiters: number;
  readonly holdMs: number;
  /** Start-up burst excluded from the numbers. */
  readonly warmupMs: number;
  readonly windowMs: number;
  readonly waitMs: number;
  /** Unique per round: keys and counter file. */
  readonly tag: string;
  /** Spread over this many keys (scale scenario; mutual exclusion is not checked then). */
  readonly keys?: number;
  /** Take one permit of a semaphore with this many permits instead of a lock (semaphore scenario). */
  readonly permits?: number;
}

export interface ContentionContext {
  readonly pool: WorkerPool;
  readonly urls: StoreUrls;
  /** Client of the private Redis server, for `INFO commandstats`. */
  readonly statsRedis: Redis;
  /** One plain connection per node of the private Redis Cluster (empty without one). */
  readonly clusterStatsNodes: readonly Redis[];
  readonly tmpDir: string;
}

/**
 * Run one round and measure it. Resolves `{ unavailable }` when the library cannot run here.
 *
 * @example
 * const metrics = await runContentionRound(context, { library: 'dlock-pubsub', waiters: 16, holdMs: 5, ... });
 */
export async function runContentionRound(
  context: ContentionContext,
  round: ContentionRound,
): Promise<ContentionMetrics | { unavailable: string }> {
  const { workers } = context.pool;
  const counterFile = join(context.tmpDir, `${round.tag}.counter`);
  await NonAtomicCounter.create(counterFile);
  const key = `bench:${round.tag}`;
  let firstWorkerId = 0;
  workers.forEach((worker, processIndex) => {
    const count =
      Math.floor(round.waiters / workers.length) + (processIndex < round.waiters % workers.length ? 1 : 0);
    worker.send({
      type: 'prepare',
      spec: {
        library: round.library,
        key,
        workers: count,
        firstWorkerId,
        processIndex,
        holdMs: round.holdMs,
        waitMs: round.waitMs,
        counterFile,
        urls: context.urls,
        keys: round.keys,
        permits: round.permits,
      },
    });
    firstWorkerId += count;
  });
  const answers = await Promise.all(workers.map((worker) => worker.next(60_000)));
  const failed = answers.find((answer) => answer.type === 'failed');
  if (failed?.type === 'failed')
    throw new Error(`${round.library}: worker failed to prepare:\n${failed.error}`);
  const unavailable = answers.find((answer) => answer.type === 'unavailable');

  const startAt = monotonicMs() + 50;
  const timing: ContentionTiming = unavailable
    ? // Release the workers that did prepare without running anything.
      { startAt, measureFrom: startAt, measureTo: startAt }
    : {
        startAt,
        measureFrom: startAt + round.warmupMs,
        measureTo: startAt + round.warmupMs + round.windowMs,
      };
  const descriptor = library(round.library);
  const isRedis = descriptor.store === 'redis';
  // On a cluster, "executed" sums the deltas of every node.
  const statsServers = descriptor.redisCluster ? context.clusterStatsNodes : context.statsRedis;
  const snapshot = (at: number) =>
    new Promise<CommandCalls | undefined>((resolve, reject) => {
      if (!isRedis || unavailable) return resolve(undefined);
      setTimeout(() => readCommandCalls(statsServers).then(resolve, reject), at - monotonicMs());
    });
  const before = snapshot(timing.measureFrom);
  const after = snapshot(timing.measureTo);
  const cpuAt = (at: number) =>
    new Promise<number | undefined>((resolve, reject) => {
      if (!isRedis || unavailable) return resolve(undefined);
      setTimeout(() => readServerCpuUs(statsServers).then(resolve, reject), at - monotonicMs());
    });
  const cpuBefore = cpuAt(timing.measureFrom);
  const cpuAfter = cpuAt(timing.measureTo);
  // Only prepared workers get a start: the others have nothing to run or answer.
  workers.forEach((worker, index) => {
    if (answers[index]?.type === 'ready') worker.send({ type: 'start', timing });
  });

  const resultTimeoutMs = timing.measureTo - monotonicMs() + round.waitMs + 30_000;
  const results: ContentionResult[] = [];
  for (const [index, worker] of workers.entries()) {
    if (answers[index]?.type !== 'ready') continue;
    const message = await worker.next(resultTimeoutMs);
    if (message.type === 'failed') throw new Error(`${round.library}: worker failed:\n${message.error}`);
    if (message.type !== 'result') throw new Error(`${round.library}: unexpected ${message.type}`);
    results.push(message.result);
  }
  if (unavailable?.type === 'unavailable') return { unavailable: unavailable.reason };

  const [callsBefore, callsAfter] = await Promise.all([before, after]);
  const acquisitions: Acquisition[] = results.flatMap((result, processIndex) =>
    decodeRecords(result.records, processIndex),
  );
  const [cpuFrom, cpuTo] = await Promise.all([cpuBefore, cpuAfter]);
  const metrics = contentionMetrics({
    library: round.library,
    waiters: round.waiters,
    holdMs: round.holdMs,
    measureFrom: timing.measureFrom,
    measureTo: timing.measureTo,
    acquisitions,
    finalCounter: await NonAtomicCounter.read(counterFile),
    sentInWindow: isRedis
      ? results.reduce((sum, result) => sum + (result.sentAtTo - result.sentAtFrom), 0)
      : Number.NaN,
    executedInWindow: callsBefore && callsAfter ? executedBetween(callsBefore, callsAfter) : Number.NaN,
    errors: results.reduce((sum, result) => sum + result.errorCount, 0),
    firstErrors: results.flatMap((result) => result.firstErrors).slice(0, 3),
  });
  const inWindow = acquisitions.filter(
    (a) => a.gotAt >= timing.measureFrom && a.gotAt < timing.measureTo,
  ).length;
  const serverCpuUsPerAcquisition =
    cpuFrom !== undefined && cpuTo !== undefined && inWindow > 0 ? (cpuTo - cpuFrom) / inWindow : undefined;
  const keys = round.keys ?? 1;
  if (round.permits !== undefined) {
    // Up to `permits` holders overlap by design: count the instants above the limit instead.
    const { maxConcurrent, overLimit } = concurrencyOf(acquisitions, round.permits);
    return {
      ...metrics,
      permits: round.permits,
      maxConcurrent,
      serverCpuUsPerAcquisition,
      lostUpdates: 0,
      overlaps: overLimit,
    };
  }
  // Over many keys, overlaps between different keys are expected and the counter is not used.
  return keys > 1
    ? { ...metrics, keys, serverCpuUsPerAcquisition, lostUpdates: 0, overlaps: 0 }
    : { ...metrics, serverCpuUsPerAcquisition };
}
