import { RECORD_FIELDS } from './contention-protocol.js';
import type { LibraryId } from './lock-adapter.js';
import { percentile } from './sample-stats.js';

/** One acquisition as measured by a worker, on the machine's monotonic clock (ms). */
export interface Acquisition {
  readonly workerId: number;
  readonly processIndex: number;
  /** The worker called acquire. */
  readonly wantAt: number;
  /** acquire resolved. */
  readonly gotAt: number;
  /** The worker called release (after its counter increment and hold). */
  readonly releaseAt: number;
}

/** Results of one library in one contention configuration (W waiters, hold). */
export interface ContentionMetrics {
  readonly library: LibraryId;
  readonly waiters: number;
  readonly holdMs: number;
  /** Rounds averaged into this row. */
  readonly rounds: number;
  /** Acquisitions inside the measurement window. */
  readonly acquisitions: number;
  readonly throughputPerSec: number;
  /** Waits overlapping the window, including ones that began before it or ended in the drain after it. */
  readonly waitP50Ms: number;
  readonly waitP99Ms: number;
  /** What every waiter would wait with a perfectly fair FIFO queue: W x mean cycle (hold + handoff). */
  readonly fairShareWaitMs: number;
  /** Release (by one worker) to acquire (by the next), across processes. */
  readonly handoffP50Ms: number;
  readonly handoffP99Ms: number;
  /** Redis commands sent per acquisition, counted in the clients of all worker processes. */
  readonly sentPerAcquisition: number;
  /** Redis commands executed per acquisition (`INFO commandstats`, counts calls inside scripts). */
  readonly executedPerAcquisition: number;
  /** Share of acquisitions won by the worker that made the previous one (0 with a fair queue). */
  readonly releaserRewinShare: number;
  /** Share of acquisitions that stayed in the releasing worker's process. */
  readonly sameProcessShare: number;
  /** Workers with less than a quarter of the fair share of acquisitions in the window. */
  readonly starvedWorkers: number;
  /** Workers with no acquisition at all in the window. */
  readonly idleWorkers: number;
  /** Counter increments lost (acquisitions minus final counter): non-zero means two holders overlapped. */
  readonly lostUpdates: number;
  /** Acquisitions that started before an earlier holder had released (from the timestamps). */
  readonly overlaps: number;
  /** acquire() calls that failed (timeout or error). */
  readonly errors: number;
  readonly firstErrors: readonly string[];
  /** Keys the round spread over (scale scenario); absent: one key. */
  readonly keys?: number;
  /** Redis server CPU (user + system) per acquisition in the window, µs. */
  readonly serverCpuUsPerAcquisition?: number;
  /** Semaphore rounds: the limit, and the most holders whose critical sections overlapped. */
  readonly permits?: number;
  readonly maxConcurrent?: number;
}

export interface ContentionMeasurement {
  readonly library: LibraryId;
  readonly waiters: number;
  readonly holdMs: number;
  readonly measureFrom: number;
  readonly measureTo: number;
  readonly acquisitions: readonly Acquisition[];
  readonly finalCounter: number;
  readonly sentInWindow: number;
  /** `NaN` when the store is not Redis. */
  readonly executedInWindow: number;
  readonly errors: number;
  readonly firstErrors: readonly string[];
}

/**
 * Turn flat worker records into acquisitions.
 *
 * @example
 * const acquisitions = decodeRecords(result.records, processIndex);
 */
export function decodeRecords(records: readonly number[], processIndex: number): Acquisition[] {
  const decoded: Acquisition[] = [];
  for (let offset = 0; offset < records.length; offset += RECORD_FIELDS) {
    decoded.push({
      workerId: records[offset]!,
      processIndex,
      wantAt: records[offset + 1]!,
      gotAt: records[offset + 2]!,
      releaseAt: records[offset + 3]!,
    });
  }
  return decoded;
}

/**
 * Compute the metrics of one round. Only acquisitions that completed inside the window count
 * for throughput, waits, handoffs and fairness; every acquisition counts for the exclusion check.
 *
 * @example
 * const metrics = contentionMetrics(measurement);
 */
export function contentionMetrics(measurement: ContentionMeasurement): ContentionMetrics {
  const { measureFrom, measureTo, waiters } = measurement;
  const all = [...measurement.acquisitions].sort((a, b) => a.gotAt - b.gotAt);
  const inWindow = (acquisition: Acquisition) =>
    acquisition.gotAt >= measureFrom && acquisition.gotAt < measureTo;

  const waits: number[] = [];
  const handoffs: number[] = [];
  let pairs = 0;
  let sameWorker = 0;
  let sameProcess = 0;
  let overlaps = 0;
  let latestRelease = Number.NEGATIVE_INFINITY;
  const perWorker = new Map<number, number>();
  let previous: Acquisition | undefined;
  let count = 0;
  for (const acquisition of all) {
    // A holder may only get the lock after every earlier holder called release.
    if (acquisition.gotAt < latestRelease) overlaps++;
    // Every wait that overlaps the window counts, also one that began before it or ended in the
    // drain after it: a starved worker's long wait must show in the percentiles.
    if (acquisition.wantAt < measureTo && acquisition.gotAt >= measureFrom) {
      waits.push(acquisition.gotAt - acquisition.wantAt);
    }
    if (inWindow(acquisition)) {
      count++;
      perWorker.set(acquisition.workerId, (perWorker.get(acquisition.workerId) ?? 0) + 1);
      if (previous) {
        pairs++;
        handoffs.push(acquisition.gotAt - previous.releaseAt);
        if (previous.workerId === acquisition.workerId) sameWorker++;
        if (previous.processIndex === acquisition.processIndex) sameProcess++;
      }
    }
    latestRelease = Math.max(latestRelease, acquisition.releaseAt);
    previous = acquisition;
  }

  const windowMs = measureTo - measureFrom;
  const fairCount = count / waiters;
  let starved = 0;
  let idle = 0;
  for (let workerId = 0; workerId < waiters; workerId++) {
    const got = perWorker.get(workerId) ?? 0;
    if (got === 0) idle++;
    if (got < fairCount / 4) starved++;
  }
  return {
    library: measurement.library,
    waiters,
    holdMs: measurement.holdMs,
    rounds: 1,
    acquisitions: count,
    throughputPerSec: (count / windowMs) * 1000,
    waitP50Ms: percentile(waits, 50),
    waitP99Ms: percentile(waits, 99),
    fairShareWaitMs: count === 0 ? Number.NaN : (waiters * windowMs) / count,
    handoffP50Ms: percentile(handoffs, 50),
    handoffP99Ms: percentile(handoffs, 99),
    sentPerAcquisition: count === 0 ? Number.NaN : measurement.sentInWindow / count,
    executedPerAcquisition: count === 0 ? Number.NaN : measurement.executedInWindow / count,
    releaserRewinShare: pairs === 0 ? Number.NaN : sameWorker / pairs,
    sameProcessShare: pairs === 0 ? Number.NaN : sameProcess / pairs,
    starvedWorkers: starved,
    idleWorkers: idle,
    lostUpdates: all.length - measurement.finalCounter,
    overlaps,
    errors: measurement.errors,
    firstErrors: measurement.firstErrors,
  };
}

/**
 * Combine the rounds of one library and configuration: rates and percentiles are averaged,
 * exclusion failures and errors summed, starvation taken at its worst.
 *
 * @example
 * const row = mergeRounds([round1, round2]);
 */
export function mergeRounds(rounds: readonly ContentionMetrics[]): ContentionMetrics {
  const [first] = rounds;
  if (!first) throw new Error('mergeRounds needs at least one round');
  if (rounds.length === 1) return first;
  const average = (pick: (metrics: ContentionMetrics) => number) =>
    rounds.reduce((sum, metrics) => sum + pick(metrics), 0) / rounds.length;
  const sum = (pick: (metrics: ContentionMetrics) => number) =>
    rounds.reduce((total, metrics) => total + pick(metrics), 0);
  const worst = (pick: (metrics: ContentionMetrics) => number) => Math.max(...rounds.map(pick));
  return {
    ...first,
    rounds: rounds.length,
    acquisitions: sum((m) => m.acquisitions),
    throughputPerSec: average((m) => m.throughputPerSec),
    waitP50Ms: average((m) => m.waitP50Ms),
    waitP99Ms: average((m) => m.waitP99Ms),
    fairShareWaitMs: average((m) => m.fairShareWaitMs),
    handoffP50Ms: average((m) => m.handoffP50Ms),
    handoffP99Ms: average((m) => m.handoffP99Ms),
    sentPerAcquisition: average((m) => m.sentPerAcquisition),
    executedPerAcquisition: average((m) => m.executedPerAcquisition),
    releaserRewinShare: average((m) => m.releaserRewinShare),
    sameProcessShare: average((m) => m.sameProcessShare),
    starvedWorkers: worst((m) => m.starvedWorkers),
    idleWorkers: worst((m) => m.idleWorkers),
    lostUpdates: sum((m) => m.lostUpdates),
    overlaps: sum((m) => m.overlaps),
    ...(first.maxConcurrent === undefined ? {} : { maxConcurrent: worst((m) => m.maxConcurrent ?? 0) }),
    errors: sum((m) => m.errors),
    firstErrors: rounds.flatMap((m) => m.firstErrors).slice(0, 3),
  };
}
