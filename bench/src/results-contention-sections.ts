import { library } from './library-catalog.js';
import { cell, markdownTable, percent, times } from './number-format.js';
import type { ResultsLookup } from './results-lookup.js';

// The multi-process tables of the results page: one key (scenario 3), through a slow link (5),
// over many keys (7). The semaphore's table is in results-semaphore.ts.

/**
 * One table per hold: every library at every W on one key.
 *
 * @example
 * sections.push(...contentionSections(lookup));
 */
export function contentionSections(lookup: ResultsLookup): string[] {
  const { results } = lookup;
  const { plan } = results;
  const sections: string[] = [];
  const redisFloor = lookup.floorUs('redis');
  const mysqlFloor = lookup.floorUs('mysql');
  for (const hold of lookup.holds) {
    const rows = lookup.waiters.flatMap((waiters) => {
      const best = lookup.bestPeer(waiters, hold);
      return lookup.configuration(waiters, hold).map((row) => {
        const descriptor = library(row.library);
        const floor = descriptor.store === 'mysql' ? mysqlFloor : redisFloor;
        return [
          String(waiters),
          descriptor.family === 'dlock' ? `**${descriptor.label}**` : descriptor.label,
          cell(row.throughputPerSec, 0),
          times(row.throughputPerSec, best?.throughputPerSec),
          cell(row.waitP50Ms, 1),
          cell(row.waitP99Ms, 0),
          cell(row.waitP99Ms / row.fairShareWaitMs, 1),
          cell(row.handoffP50Ms, 2),
          cell(row.handoffP99Ms, 1),
          floor === undefined ? '—' : cell((row.handoffP50Ms * 1000) / floor, 1),
          cell(row.sentPerAcquisition, 1),
          cell(row.executedPerAcquisition, 1),
          percent(row.releaserRewinShare),
          percent(row.sameProcessShare),
          `${row.starvedWorkers} (${row.idleWorkers})`,
          row.lostUpdates === 0 && row.overlaps === 0
            ? 'ok'
            : `**FAILED** (${row.lostUpdates} lost, ${row.overlaps} overlaps)`,
          row.errors === 0 ? '' : `${row.errors} errors: ${row.firstErrors[0] ?? ''}`,
        ];
      });
    });
    sections.push(
      [
        `## Contention on one key, hold ${hold} ms`,
        '',
        `W workers spread evenly over ${plan.processes} OS processes loop acquire -> non-atomic counter increment${hold > 0 ? ` + ${hold} ms` : ''} -> release on one key. ` +
          `${plan.contentionRounds} round(s) of ${plan.windowMs / 1000} s after a ${plan.warmupMs} ms warm-up per library and W; ` +
          '"vs best peer" is throughput over the best peer\'s at the same W; "fair" is W x the mean time between acquisitions; "handoff RTT" is the handoff p50 in raw round trips of the same store.',
        '',
        markdownTable(
          [
            'W',
            'library',
            'acq/s',
            'vs best peer',
            'wait p50 ms',
            'wait p99 ms',
            'p99 / fair',
            'handoff p50 ms',
            'handoff p99 ms',
            'handoff RTT',
            'cmds sent/acq',
            'executed/acq',
            'releaser re-wins',
            'same process',
            'starved (none)',
            'exclusion',
            'errors',
          ],
          rows,
        ),
      ].join('\n'),
    );
  }
  return sections;
}

/**
 * The contention rounds through a FaultyLink (empty without them).
 *
 * @example
 * sections.push(...networkSection(lookup));
 */
export function networkSection(lookup: ResultsLookup): string[] {
  const { results } = lookup;
  const { plan } = results;
  const sections: string[] = [];
  const network = results.network ?? [];
  if (network.length > 0) {
    const fastestHandoff = (hold: number, waiters: number) =>
      network.filter((row) => row.holdMs === hold && row.waiters === waiters);
    const rows = network.map((row) => {
      const descriptor = library(row.library);
      const peers = fastestHandoff(row.holdMs, row.waiters).filter(
        (other) => library(other.library).family === 'peer',
      );
      const best = Math.max(...peers.map((other) => other.throughputPerSec));
      return [
        String(row.waiters),
        String(row.holdMs),
        descriptor.family === 'dlock' ? `**${descriptor.label}**` : descriptor.label,
        cell(row.throughputPerSec, 0),
        peers.length > 0 ? times(row.throughputPerSec, best) : '—',
        cell(row.waitP99Ms, 0),
        cell(row.waitP99Ms / row.fairShareWaitMs, 1),
        cell(row.handoffP50Ms, 2),
        cell(row.handoffP99Ms, 1),
        cell(row.sentPerAcquisition, 1),
        percent(row.releaserRewinShare),
        `${row.starvedWorkers} (${row.idleWorkers})`,
        row.lostUpdates === 0 && row.overlaps === 0
          ? 'ok'
          : `**FAILED** (${row.lostUpdates} lost, ${row.overlaps} overlaps)`,
      ];
    });
    sections.push(
      [
        `## Contention over a real network (${plan.network.latencyMs} ms each way)`,
        '',
        `The same rounds, every library in the same run, with every store connection of the worker processes going through a \`FaultyLink\` (\`@dlock/testing\`) that delays each chunk ${plan.network.latencyMs} ms each way (Redis and MySQL alike), so one round trip costs about ${2 * plan.network.latencyMs} ms more than on loopback. One round of ${plan.windowMs / 1000} s per library.`,
        '',
        markdownTable(
          [
            'W',
            'hold ms',
            'library',
            'acq/s',
            'vs best peer',
            'wait p99 ms',
            'p99 / fair',
            'handoff p50 ms',
            'handoff p99 ms',
            'cmds sent/acq',
            'releaser re-wins',
            'starved (none)',
            'exclusion',
          ],
          rows,
        ),
      ].join('\n'),
    );
  }
  return sections;
}

/**
 * Cost per acquisition over 1, 100, 10,000 keys (empty without the scale scenario).
 *
 * @example
 * sections.push(...scaleSection(lookup));
 */
export function scaleSection(lookup: ResultsLookup): string[] {
  const { results } = lookup;
  const { plan } = results;
  const sections: string[] = [];
  const scale = results.scale ?? [];
  if (scale.length > 0) {
    sections.push(
      [
        `## Scale: ${plan.scale.waiters} waiters over 1, 100 and 10,000 keys`,
        '',
        `${plan.scale.waiters} workers over ${plan.processes} processes, hold ${plan.scale.holdMs} ms, each acquisition on a key drawn at random from K keys (K = 1 is the contended single key; at 10,000 keys almost every acquisition is uncontended). Commands and Redis server CPU (\`INFO cpu\`, user + system, so parsing and network included) per acquisition should stay flat as K grows. Mutual exclusion is checked only at K = 1 (the counter is per key). Subscriptions per process and memory at scale are in the memory table below.`,
        '',
        markdownTable(
          [
            'keys',
            'library',
            'acq/s',
            'cmds sent/acq',
            'executed/acq',
            'Redis CPU µs/acq',
            'wait p99 ms',
            'errors',
          ],
          scale.map((row) => [
            String(row.keys ?? 1),
            library(row.library).family === 'dlock'
              ? `**${library(row.library).label}**`
              : library(row.library).label,
            cell(row.throughputPerSec, 0),
            cell(row.sentPerAcquisition, 2),
            cell(row.executedPerAcquisition, 1),
            cell(row.serverCpuUsPerAcquisition ?? Number.NaN, 1),
            cell(row.waitP99Ms, 1),
            row.errors ? String(row.errors) : '',
          ]),
        ),
      ].join('\n'),
    );
  }
  return sections;
}
