import { library } from './library-catalog.js';
import { cell, markdownTable, times } from './number-format.js';
import { isLibrary, type ResultsLookup } from './results-lookup.js';

// The in-process tables of the results page: uncontended latency (scenario 2), memory (6) and the
// decorator's overhead (4).

/**
 * Uncontended acquire+release per library, against the raw round trip.
 *
 * @example
 * sections.push(...uncontendedSection(lookup));
 */
export function uncontendedSection(lookup: ResultsLookup): string[] {
  const { results } = lookup;
  const { plan } = results;
  const sections: string[] = [];
  const peer = lookup.bestUncontendedPeer();
  sections.push(
    [
      '## Uncontended acquire + release',
      '',
      `${plan.uncontended.rounds * plan.uncontended.iterationsPerRound} acquire+release on a free key per library, in one process, interleaved: each iteration runs every library once, in an order rotated per iteration (commands counted in a separate block of 100). ` +
        '"Round trips" divides the p50 by the p50 of one raw command on the same store (Redis GET, MySQL SELECT 1).',
      '',
      markdownTable(
        [
          '',
          'p50 µs',
          'p99 µs',
          'round trips (p50)',
          `vs best peer${peer ? ` (${peer.label})` : ''}`,
          'Redis cmds sent',
          'executed',
          'Redis command µs',
          'Redis CPU µs',
        ],
        results.uncontended.map((row) => [
          isLibrary(row.id) && library(row.id).family === 'dlock' ? `**${row.label}**` : row.label,
          cell(row.p50Us, 0),
          cell(row.p99Us, 0),
          times(row.p50Us, lookup.floorUs(row.store)),
          isLibrary(row.id) && row.store === 'redis' ? times(row.p50Us, peer?.p50Us) : '—',
          cell(row.sentPerOp, 1),
          cell(row.executedPerOp, 1),
          cell(row.commandUsecPerOp ?? Number.NaN, 1),
          cell(row.serverCpuUsPerOp ?? Number.NaN, 1),
        ]),
      ),
    ].join('\n'),
  );
  return sections;
}

/**
 * Heap and Redis memory per held lock, waiter and released key (empty without them).
 *
 * @example
 * sections.push(...memorySection(lookup));
 */
export function memorySection(lookup: ResultsLookup): string[] {
  const { results } = lookup;
  const sections: string[] = [];
  const memory = results.memory ?? [];
  if (memory.length > 0) {
    const bytes = (value: number | undefined) =>
      value === undefined || Number.isNaN(value) ? '—' : cell(value, 0);
    sections.push(
      [
        '## Memory per held lock, waiter and released key',
        '',
        `In the bench process, after warm-up: hold ${memory[0]!.heldLocks} locks on distinct keys at once, then release them; GC-settled heap (\`--expose-gc\`) and the private Redis' \`used_memory\` against the baseline. "Local waiter": callers of one process queued behind one held key (the core's per-key FIFO). "Backend waiter": a second manager (own client and subscriber) waiting on up to 2000 distinct keys the first one holds (subscription + queue entry). "Released key": what is left per key right after release. Commands and server CPU are per acquisition while taking the held locks (the cost curve of many locks at once). MySQL is not in this table: every held MySQL lock pins one pooled connection (pool 4), so it cannot hold thousands.`,
        '',
        markdownTable(
          [
            'library',
            'heap / held lock B',
            'heap / local waiter B',
            'heap / backend waiter B',
            'subscriptions (waiting → after)',
            'Redis / held lock B',
            'Redis / released key B',
            'Redis keys / released key',
            'heap / released key B',
            'executed / acq',
            'Redis CPU µs / acq',
          ],
          memory.map((row) => [
            row.dlock ? `**${row.label}**` : row.label,
            bytes(row.heapPerHeldLock),
            bytes(row.heapPerLocalWaiter),
            bytes(row.heapPerBackendWaiter),
            row.subscriptionsWhileWaiting === undefined
              ? '—'
              : `${row.subscriptionsWhileWaiting} → ${row.subscriptionsAfter}`,
            bytes(row.redisPerHeldLock),
            bytes(row.redisPerReleasedKey),
            row.keysPerReleasedKey === undefined ? '—' : cell(row.keysPerReleasedKey, 2),
            bytes(row.heapPerReleasedKey),
            row.executedPerAcquisition === undefined ? '—' : cell(row.executedPerAcquisition, 1),
            row.serverCpuUsPerAcquisition === undefined ? '—' : cell(row.serverCpuUsPerAcquisition, 1),
          ]),
        ),
      ].join('\n'),
    );
  }
  return sections;
}

/**
 * `@DistributedLock` against `withLock` and the same body undecorated.
 *
 * @example
 * sections.push(...decoratorSection(lookup));
 */
export function decoratorSection(lookup: ResultsLookup): string[] {
  const { results } = lookup;
  const { plan } = results;
  const sections: string[] = [];
  const { decorator } = results;
  sections.push(
    [
      '## Decorator overhead (MemoryLockBackend)',
      '',
      `Median of ${plan.decorator.rounds} rounds x ${plan.decorator.callsPerRound} sequential calls per variant, order rotated.`,
      '',
      markdownTable(
        ['variant', 'µs per call', 'over plain'],
        [
          ['plain async method (same body)', cell(decorator.plainNs / 1000, 2), '—'],
          [
            '`manager.withLock(key, options, body)`',
            cell(decorator.withLockNs / 1000, 2),
            `+${cell((decorator.withLockNs - decorator.plainNs) / 1000, 2)} µs`,
          ],
          [
            '`@DistributedLock({ key: "…{0}", retry })` method',
            cell(decorator.decoratedNs / 1000, 2),
            `+${cell((decorator.decoratedNs - decorator.plainNs) / 1000, 2)} µs`,
          ],
        ],
      ),
    ].join('\n'),
  );
  return sections;
}
