import { exclusionFailures } from './bench-results.js';
import { library } from './library-catalog.js';
import { cell } from './number-format.js';
import type { ResultsLookup } from './results-lookup.js';
import type { UncontendedRow } from './uncontended-scenario.js';

/**
 * A short analysis written from the numbers of this run (so it stays true when the bench is
 * rerun): where dlock is cheaper or faster, where a peer is, and which goals were missed.
 *
 * @example
 * const bullets = analyse(lookup);
 */
export function analyse(lookup: ResultsLookup): string[] {
  const { results } = lookup;
  const bullets: string[] = [];
  const floor = lookup.floorUs('redis');
  const memory = lookup.uncontended('dlock-memory');
  const peer = lookup.bestUncontendedPeer();

  if (floor !== undefined) {
    const parts = (['dlock-pubsub', 'dlock-spin', 'dlock-pubsub-cluster', 'dlock-spin-cluster'] as const)
      .map((id) => lookup.uncontended(id))
      .filter((row) => row !== undefined)
      .map(
        (row) =>
          `${row.label} ${cell(row.p50Us, 0)} µs (${cell(row.p50Us / floor, 1)} round trips, ${cell(row.sentPerOp, 1)} commands sent, ${cell(row.executedPerOp, 1)} executed)`,
      );
    const fastestDlock = (['dlock-pubsub', 'dlock-spin'] as const)
      .map((id) => lookup.uncontended(id))
      .filter((row) => row !== undefined)
      .sort((a, b) => a.p50Us - b.p50Us)[0];
    if (parts.length > 0) {
      bullets.push(
        `Uncontended acquire+release (p50): ${parts.join('; ')}` +
          (peer
            ? `; fastest peer ${peer.label} ${cell(peer.p50Us, 0)} µs (${cell(peer.p50Us / floor, 1)} round trips).`
            : '.') +
          managerShare(memory?.p50Us, fastestDlock, peer),
      );
    }
  }

  const maxWaiters = lookup.waiters.at(-1);
  for (const hold of lookup.holds) {
    if (maxWaiters === undefined) break;
    const rows = lookup
      .configuration(maxWaiters, hold)
      .filter((row) => library(row.library).store === 'redis');
    if (rows.length === 0) continue;
    const byCommands = [...rows].sort((a, b) => a.sentPerAcquisition - b.sentPerAcquisition);
    bullets.push(
      `Redis load at W=${maxWaiters}, hold ${hold} ms (commands sent per acquisition, fewest first): ` +
        byCommands
          .map(
            (row) =>
              `${library(row.library).label} ${cell(row.sentPerAcquisition, 1)} (${cell(row.executedPerAcquisition, 1)} executed)`,
          )
          .join(', ') +
        '.',
    );
    const fairness = [...lookup.configuration(maxWaiters, hold)].sort((a, b) => a.waitP99Ms - b.waitP99Ms);
    bullets.push(
      `Fairness at W=${maxWaiters}, hold ${hold} ms (p99 wait / fair share; releasing worker re-wins; starved): ` +
        fairness
          .map(
            (row) =>
              `${library(row.library).label} ${cell(row.waitP99Ms / row.fairShareWaitMs, 1)}x, ${cell(row.releaserRewinShare * 100, 0)} %, ${row.starvedWorkers}`,
          )
          .join('; ') +
        '.',
    );
  }

  const clusterBullet = clusterComparison(lookup, maxWaiters);
  if (clusterBullet) bullets.push(clusterBullet);

  const peerFaster: string[] = [];
  for (const hold of lookup.holds) {
    for (const waiters of lookup.waiters) {
      const best = lookup.bestPeer(waiters, hold);
      const dlock = lookup
        .configuration(waiters, hold)
        .filter((row) => library(row.library).family === 'dlock' && library(row.library).store === 'redis')
        .sort((a, b) => b.throughputPerSec - a.throughputPerSec)[0];
      if (best && dlock && best.throughputPerSec > dlock.throughputPerSec * 1.05) {
        peerFaster.push(
          `W=${waiters}/hold ${hold} ms: ${library(best.library).label} ${cell(best.throughputPerSec, 0)} vs ${library(dlock.library).label} ${cell(dlock.throughputPerSec, 0)} acq/s`,
        );
      }
    }
  }
  bullets.push(
    peerFaster.length > 0
      ? `A peer had more than 5 % more throughput than the best dlock Redis backend in: ${peerFaster.join('; ')}.`
      : 'No peer had more than 5 % more throughput than the best dlock Redis backend in any measured configuration.',
  );

  const mysqlFloor = lookup.floorUs('mysql');
  const mysql = lookup.uncontended('dlock-mysql');
  if (mysql && mysqlFloor !== undefined) {
    const contended =
      maxWaiters === undefined
        ? undefined
        : lookup.contention('dlock-mysql', maxWaiters, lookup.holds[0] ?? 5);
    bullets.push(
      `MySQL named locks: uncontended ${cell(mysql.p50Us, 0)} µs p50 (${cell(mysql.p50Us / mysqlFloor, 1)} SELECT 1 round trips)` +
        (contended
          ? `; at W=${contended.waiters}, hold ${contended.holdMs} ms: ${cell(contended.throughputPerSec, 0)} acq/s, p99 wait ${cell(contended.waitP99Ms, 0)} ms, releasing worker re-wins ${cell(contended.releaserRewinShare * 100, 0)} %.`
          : '.'),
    );
  }

  const { decorator } = results;
  const decoratorOwnNs = decorator.decoratedNs - decorator.withLockNs;
  bullets.push(
    `Decorator (MemoryLockBackend): a decorated call costs ${cell(decorator.decoratedNs / 1000, 1)} µs against ${cell(decorator.plainNs / 1000, 2)} µs for the same body undecorated, ` +
      `and ${cell(decorator.withLockNs / 1000, 1)} µs through withLock directly: ` +
      (decoratorOwnNs > 0
        ? `the decorator's own work (key template, options) adds ${cell(decoratorOwnNs / 1000, 1)} µs; the rest is the LockManager.`
        : 'the decorator itself adds nothing measurable on top of withLock (the difference is within run-to-run noise); the cost is the LockManager.'),
  );

  const { failures } = exclusionFailures(results.contention);
  bullets.push(
    failures.length === 0
      ? 'Mutual exclusion held for every library in every round: the non-atomic counter ended exact and no acquisition started before the previous holder released.'
      : `Mutual exclusion FAILED: ${failures.map((row) => `${library(row.library).label} W=${row.waiters}/hold ${row.holdMs} ms (${row.lostUpdates} lost updates, ${row.overlaps} overlaps)`).join('; ')}.`,
  );
  return bullets;
}

/** The cluster rows next to the same backend on the single server, at the largest W. */
function clusterComparison(lookup: ResultsLookup, maxWaiters: number | undefined): string | undefined {
  if (maxWaiters === undefined) return undefined;
  const pairs = [
    ['dlock-pubsub', 'dlock-pubsub-cluster'],
    ['dlock-spin', 'dlock-spin-cluster'],
  ] as const;
  const parts = lookup.holds.flatMap((hold) =>
    pairs.flatMap(([single, clustered]) => {
      const one = lookup.contention(single, maxWaiters, hold);
      const many = lookup.contention(clustered, maxWaiters, hold);
      if (!one || !many) return [];
      return [
        `${library(clustered).label} at W=${maxWaiters}, hold ${hold} ms: ${cell(many.throughputPerSec, 0)} acq/s and ${cell(many.sentPerAcquisition, 1)} commands sent per acquisition vs ${cell(one.throughputPerSec, 0)} and ${cell(one.sentPerAcquisition, 1)} on one server`,
      ];
    }),
  );
  if (parts.length === 0) return undefined;
  return `Redis Cluster (3 masters, one key, so one shard does the work): ${parts.join('; ')}.`;
}

/** Say how much of dlock's uncontended gap to the fastest peer the LockManager itself explains. */
function managerShare(
  managerUs: number | undefined,
  dlock: UncontendedRow | undefined,
  peer: UncontendedRow | undefined,
): string {
  if (managerUs === undefined || !dlock || !peer) return '';
  const gapUs = dlock.p50Us - peer.p50Us;
  const manager = `the LockManager's own per-call work (MemoryLockBackend, no store) is ${cell(managerUs, 0)} µs`;
  if (gapUs <= 0) return ` ${dlock.label} is as fast as or faster than ${peer.label}; ${manager}.`;
  return (
    ` ${dlock.label} is ${cell(gapUs, 0)} µs slower than ${peer.label} (${cell(dlock.sentPerOp, 1)} vs ${cell(peer.sentPerOp, 1)} commands sent); ` +
    `${manager}, which leaves ${cell(Math.max(0, gapUs - managerUs), 0)} µs of client-side work in the backend.`
  );
}
