import { cell } from './number-format.js';
import type { ResultsLookup } from './results-lookup.js';

/** One goal from the issues, with what this run measured. `met` is undefined when not measured. */
export interface TargetCheck {
  readonly target: string;
  readonly measured: string;
  readonly met: boolean | undefined;
}

const SPIN_CONFIGURATIONS = ['dlock-spin', 'redlock', 'redis-semaphore', 'redis-semaphore-2ms'] as const;

/**
 * Check the pub/sub and uncontended goals of the Redis backends issue. Goals, not pass/fail:
 * the bench never fails on them, it reports them.
 *
 * @example
 * for (const check of checkTargets(lookup)) console.log(check.target, check.met);
 */
export function checkTargets(lookup: ResultsLookup): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const hold = lookup.holds.includes(5) ? 5 : lookup.holds[0];
  const maxWaiters = lookup.waiters.at(-1);
  const notMeasured = (target: string): TargetCheck => ({ target, measured: 'not measured', met: undefined });

  const pubsubRows = lookup.waiters
    .map((waiters) => lookup.contention('dlock-pubsub', waiters, hold ?? 5))
    .filter((row) => row !== undefined);
  const commandsTarget = `pub/sub: at most 3 Redis commands sent per acquisition, flat from ${lookup.waiters.join(' to ')} waiters (hold ${hold} ms)`;
  if (pubsubRows.length === 0) checks.push(notMeasured(commandsTarget));
  else {
    checks.push({
      target: commandsTarget,
      measured: pubsubRows
        .map(
          (row) =>
            `W=${row.waiters}: ${cell(row.sentPerAcquisition, 3)} sent (${cell(row.executedPerAcquisition, 1)} executed)`,
        )
        .join('; '),
      // "Flat": the most loaded configuration costs at most 1.5x the least loaded one.
      met:
        pubsubRows.every((row) => row.sentPerAcquisition <= 3) &&
        Math.max(...pubsubRows.map((row) => row.sentPerAcquisition)) <=
          1.5 * Math.min(...pubsubRows.map((row) => row.sentPerAcquisition)),
    });
  }

  const top =
    maxWaiters === undefined || hold === undefined
      ? undefined
      : lookup.contention('dlock-pubsub', maxWaiters, hold);
  const at = `W=${maxWaiters}, hold ${hold} ms`;
  if (!top) {
    checks.push(notMeasured('pub/sub: no starved waiter, p99 wait at most 2x the fair share'));
  } else {
    checks.push({
      target: `pub/sub: no starved waiter (${at})`,
      measured: `${top.starvedWorkers} of ${top.waiters} below a quarter of the fair share (${top.idleWorkers} got none); releasing worker re-won ${cell(top.releaserRewinShare * 100, 0)} %`,
      met: top.starvedWorkers === 0,
    });
    checks.push({
      target: `pub/sub: p99 wait at most 2x the fair share W x (hold + handoff) (${at})`,
      measured: `p99 ${cell(top.waitP99Ms, 1)} ms vs fair share ${cell(top.fairShareWaitMs, 1)} ms (${cell(top.waitP99Ms / top.fairShareWaitMs, 2)}x)`,
      met: top.waitP99Ms <= 2 * top.fairShareWaitMs,
    });
    const spin = SPIN_CONFIGURATIONS.map((id) => lookup.contention(id, top.waiters, top.holdMs))
      .filter((row) => row !== undefined)
      .sort((a, b) => b.throughputPerSec - a.throughputPerSec)[0];
    checks.push({
      target: `pub/sub: throughput at least that of the best spin configuration (${at})`,
      measured: spin
        ? `${cell(top.throughputPerSec, 0)} acq/s vs ${spin.library} ${cell(spin.throughputPerSec, 0)} acq/s`
        : `${cell(top.throughputPerSec, 0)} acq/s (no spin library measured)`,
      met: spin ? top.throughputPerSec >= spin.throughputPerSec : undefined,
    });
    checks.push({
      target: `pub/sub: handoff p50 under 0.5 ms (${at})`,
      measured: `${cell(top.handoffP50Ms, 2)} ms (p99 ${cell(top.handoffP99Ms, 2)} ms)`,
      met: top.handoffP50Ms < 0.5,
    });
  }

  const floor = lookup.floorUs('redis');
  for (const id of ['dlock-pubsub', 'dlock-spin'] as const) {
    const row = lookup.uncontended(id);
    const target = `${row?.label ?? id}: uncontended acquire+release at most 2.3 reference round trips`;
    if (!row || floor === undefined) {
      checks.push(notMeasured(target));
      continue;
    }
    const peer = lookup.bestUncontendedPeer();
    checks.push({
      target,
      measured: `p50 ${cell(row.p50Us, 0)} µs = ${cell(row.p50Us / floor, 2)} round trips of ${cell(floor, 0)} µs${peer ? ` (best peer ${peer.label}: ${cell(peer.p50Us / floor, 2)})` : ''}`,
      met: row.p50Us <= 2.3 * floor,
    });
  }
  return checks;
}
