import { cell } from './number-format.js';
import type { ResultsLookup } from './results-lookup.js';
import { semaphoreTargets } from './results-semaphore.js';

/** One goal from the issues, with what this run measured. `met` is undefined when not measured. */
export interface TargetCheck {
  readonly target: string;
  readonly measured: string;
  readonly met: boolean | undefined;
}

/**
 * Check the goals of issues #17 (performance), #18 (memory per key) and #12 (semaphores). Goals, not pass/fail: the
 * bench never fails on them, it reports them.
 *
 * @example
 * for (const check of checkTargets(lookup)) console.log(check.target, check.met);
 */
export function checkTargets(lookup: ResultsLookup): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const notMeasured = (target: string): TargetCheck => ({ target, measured: 'not measured', met: undefined });
  const W = lookup.waiters.at(-1) ?? 64;
  const ratio = (value: number, reference: number) => `${cell(value / reference, 2)}×`;

  // #17 goal 1: handoff and throughput at hold 5 ms.
  const pubsub5 = lookup.contention('dlock-pubsub', W, 5);
  const mysql5 = lookup.contention('dlock-mysql', W, 5);
  const peer5 = lookup.bestPeer(W, 5);
  if (pubsub5 && mysql5) {
    checks.push({
      target: `#17.1 pub/sub handoff p50 at most MySQL GET_LOCK's (W=${W}, hold 5 ms)`,
      measured: `${cell(pubsub5.handoffP50Ms, 2)} ms vs ${cell(mysql5.handoffP50Ms, 2)} ms (${ratio(pubsub5.handoffP50Ms, mysql5.handoffP50Ms)})`,
      met: pubsub5.handoffP50Ms <= mysql5.handoffP50Ms,
    });
  } else checks.push(notMeasured("#17.1 pub/sub handoff p50 at most MySQL GET_LOCK's"));
  if (pubsub5 && peer5) {
    checks.push({
      target: `#17.1 pub/sub throughput at least 0.97x the best peer, 0 % re-wins, nobody starved (W=${W}, hold 5 ms)`,
      measured: `${cell(pubsub5.throughputPerSec, 0)} vs ${peer5.library} ${cell(peer5.throughputPerSec, 0)} acq/s (${ratio(pubsub5.throughputPerSec, peer5.throughputPerSec)}); re-wins ${cell(pubsub5.releaserRewinShare * 100, 0)} %, starved ${pubsub5.starvedWorkers}`,
      met:
        pubsub5.throughputPerSec >= 0.97 * peer5.throughputPerSec &&
        pubsub5.releaserRewinShare === 0 &&
        pubsub5.starvedWorkers === 0,
    });
  } else checks.push(notMeasured('#17.1 pub/sub throughput at least 0.97x the best peer'));

  // #17 goal 2: hold 0.
  const pubsub0 = lookup.contention('dlock-pubsub', W, 0);
  const mysql0 = lookup.contention('dlock-mysql', W, 0);
  if (pubsub0 && mysql0) {
    checks.push({
      target: `#17.2 pub/sub throughput at least 0.8x MySQL GET_LOCK's (W=${W}, hold 0)`,
      measured: `${cell(pubsub0.throughputPerSec, 0)} vs ${cell(mysql0.throughputPerSec, 0)} acq/s (${ratio(pubsub0.throughputPerSec, mysql0.throughputPerSec)})`,
      met: pubsub0.throughputPerSec >= 0.8 * mysql0.throughputPerSec,
    });
  } else checks.push(notMeasured("#17.2 pub/sub throughput at least 0.8x MySQL GET_LOCK's at hold 0"));

  // #17 goal 3: uncontended latency and Redis work.
  const semaphore = lookup.uncontended('redis-semaphore');
  for (const id of ['dlock-pubsub', 'dlock-spin'] as const) {
    const row = lookup.uncontended(id);
    if (!row || !semaphore) {
      checks.push(notMeasured(`#17.3 ${id}: uncontended p50 at most 1.1x redis-semaphore's`));
      continue;
    }
    checks.push({
      target: `#17.3 ${row.label}: uncontended acquire+release p50 at most 1.1x redis-semaphore's`,
      measured: `${cell(row.p50Us, 0)} vs ${cell(semaphore.p50Us, 0)} µs (${ratio(row.p50Us, semaphore.p50Us)})`,
      met: row.p50Us <= 1.1 * semaphore.p50Us,
    });
    checks.push({
      target: `#17.3 ${row.label}: at most 6 commands executed in Redis per uncontended acquire+release`,
      measured: `${cell(row.executedPerOp, 1)} executed (redis-semaphore ${cell(semaphore.executedPerOp, 1)}); ${cell(row.commandUsecPerOp ?? Number.NaN, 1)} command µs, ${cell(row.serverCpuUsPerOp ?? Number.NaN, 1)} server CPU µs (redis-semaphore ${cell(semaphore.commandUsecPerOp ?? Number.NaN, 1)}, ${cell(semaphore.serverCpuUsPerOp ?? Number.NaN, 1)})`,
      met: row.executedPerOp <= 6,
    });
  }
  if (pubsub5) {
    checks.push({
      target: `#17.3 pub/sub: at most 10 commands executed in Redis per contended acquisition (W=${W}, hold 5 ms)`,
      measured: `${cell(pubsub5.executedPerAcquisition, 1)} executed, ${cell(pubsub5.sentPerAcquisition, 2)} sent`,
      met: pubsub5.executedPerAcquisition <= 10,
    });
  }

  // #17 goal 4: the manager's own work, measured in a loop of its own (the decorator scenario's
  // withLock): the uncontended table's interleaved sample of the memory backend also carries the
  // event-loop turns the Redis probes around it leave behind, which are not the manager's work.
  const memory = lookup.uncontended('dlock-memory');
  const decorator = lookup.results.decorator;
  const perCallUs = (decorator.withLockNs - decorator.plainNs) / 1000;
  checks.push({
    target:
      '#17.4 LockManager per-call work (MemoryLockBackend, withLock in a loop of its own) at most 10 µs',
    measured:
      `${cell(perCallUs, 1)} µs` +
      (memory ? ` (acquire+release interleaved with the Redis probes: ${cell(memory.p50Us, 1)} µs p50)` : ''),
    met: perCallUs <= 10,
  });
  const decoratedOverheadUs = (decorator.decoratedNs - decorator.plainNs) / 1000;
  checks.push({
    target: '#17.4 decorated call overhead at most 12 µs (MemoryLockBackend)',
    measured: `${cell(decoratedOverheadUs, 1)} µs`,
    met: decoratedOverheadUs <= 12,
  });

  // #17 goal 5: spin fairness.
  const spin5 = lookup.contention('dlock-spin', W, 5);
  if (spin5) {
    checks.push({
      target: `#17.5 spin with retry: p99 wait at most 3x the fair share with at most 3 commands sent per acquisition (W=${W}, hold 5 ms)`,
      measured: `${cell(spin5.waitP99Ms / spin5.fairShareWaitMs, 1)}x the fair share, ${cell(spin5.sentPerAcquisition, 2)} sent`,
      met: spin5.waitP99Ms <= 3 * spin5.fairShareWaitMs && spin5.sentPerAcquisition <= 3,
    });
  }

  // #18: memory.
  for (const row of lookup.results.memory ?? []) {
    if (!row.dlock || row.label === 'dlock memory') continue;
    checks.push({
      target: `#18 ${row.label}: heap at most 1.5 KB per held lock and 1 KB per local waiter`,
      measured: `${cell(row.heapPerHeldLock, 0)} B per held lock, ${cell(row.heapPerLocalWaiter ?? Number.NaN, 0)} B per local waiter`,
      met: row.heapPerHeldLock <= 1536 && (row.heapPerLocalWaiter ?? Number.POSITIVE_INFINITY) <= 1024,
    });
    checks.push({
      target: `#18 ${row.label}: nothing per key stays in Redis or in the process after release`,
      measured: `${cell(row.keysPerReleasedKey ?? Number.NaN, 3)} Redis keys and ${cell(row.redisPerReleasedKey ?? Number.NaN, 0)} B of Redis memory per released key; ${cell(row.heapPerReleasedKey, 0)} B of heap${row.subscriptionsAfter === undefined ? '' : `; ${row.subscriptionsAfter} subscriptions left`}`,
      met: (row.keysPerReleasedKey ?? 1) === 0 && (row.subscriptionsAfter ?? 0) === 0,
    });
  }
  checks.push(...semaphoreTargets(lookup));
  return checks;
}
