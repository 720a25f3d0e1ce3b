import { checkHistory, type FencedWrite, type LockHistoryRecord } from '@dlock/testing';

/**
 * What a shared-locks chaos attempt was, appended to its record's key (`<key>#<kind>`): the
 * history format has one key per record and no mode, and the checks below need both.
 */
export type SharedKind = 'permit' | 'read' | 'write';

/**
 * The record key of one attempt.
 *
 * @example
 * sharedRecordKey('chaos:1:sem', 'permit'); // 'chaos:1:sem#permit'
 */
export function sharedRecordKey(key: string, kind: SharedKind): string {
  return `${key}#${kind}`;
}

function splitRecordKey(recordKey: string): { key: string; kind: SharedKind } {
  const at = recordKey.lastIndexOf('#');
  return { key: recordKey.slice(0, at), kind: recordKey.slice(at + 1) as SharedKind };
}

/** `Map.groupBy`, which Node 20 does not have. */
function groupBy<T>(items: readonly T[], keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(keyOf(item), [...(groups.get(keyOf(item)) ?? []), item]);
  return groups;
}

/** Held sections that count: ended "ok" (the holder never lost its lease), not disturbed on purpose. */
function heldSections(history: readonly LockHistoryRecord[]) {
  return history
    .filter((record) => record.outcome === 'ok' && record.acquiredAt !== undefined && !record.faultInjected)
    .map((record) => ({
      record,
      ...splitRecordKey(record.key),
      from: record.acquiredAt!,
      to: record.releasedAt ?? Number.POSITIVE_INFINITY,
    }));
}

/**
 * Check a shared-locks history: at no instant more than `permits` holders of one semaphore key,
 * a writer of a read-write key never overlapping any other holder (reader or writer), plus every
 * check of `checkHistory` except its mutex overlap rule (typed outcomes, bounded waits, no stale
 * write accepted by the register the writers write through). Returns the messages, empty when clean.
 *
 * Like the mutex check, only sections that ended "ok" count: a holder whose lease ran out (a paused
 * link, a restarted Redis) learns it and fails with `LockLostError`, and a store may then rightly
 * have let someone else in. Sections are [acquiredAt, releasedAt] on `Date.now()` of one machine;
 * touching ends do not overlap.
 *
 * @example
 * expect(checkSharedHistory(history, { permits: 3, commandTimeoutMs: 1000, register })).toEqual([]);
 */
export function checkSharedHistory(
  history: readonly LockHistoryRecord[],
  options: {
    readonly permits: number;
    readonly commandTimeoutMs: number;
    readonly graceMs?: number;
    readonly register?: { readonly writes: readonly FencedWrite[] };
  },
): string[] {
  const messages = checkHistory(history, options)
    .filter((violation) => violation.kind !== 'overlap')
    .map((violation) => violation.message);
  const sections = heldSections(history);
  const describe = (section: (typeof sections)[number]) =>
    `${section.record.process} ${section.kind} ${section.from}..${section.record.releasedAt ?? 'never released'} (token ${section.record.fencingToken})`;

  // Semaphores: at each start, everyone still running counts.
  const permitsByKey = groupBy(
    sections.filter((section) => section.kind === 'permit'),
    (section) => section.key,
  );
  for (const [key, permits] of permitsByKey) {
    sweep(permits, (running, at) => {
      if (running.length <= options.permits) return;
      messages.push(
        `${running.length} holders of the ${options.permits}-permit semaphore "${key}" at ${at}: ` +
          running.map(describe).join(', '),
      );
    });
  }

  // Read-write keys: a writer overlaps nobody.
  const rwByKey = groupBy(
    sections.filter((section) => section.kind !== 'permit'),
    (section) => section.key,
  );
  for (const [key, holders] of rwByKey) {
    for (const [index, writer] of holders.entries()) {
      if (writer.kind !== 'write') continue;
      for (const [otherIndex, other] of holders.entries()) {
        // A pair of writers once, not twice.
        if (otherIndex === index || (other.kind === 'write' && otherIndex < index)) continue;
        if (other.from < writer.to && writer.from < other.to) {
          messages.push(
            `A writer of "${key}" overlapped another holder: ${describe(writer)} and ${describe(other)}`,
          );
        }
      }
    }
  }
  return messages;
}

type Section = { readonly from: number; readonly to: number };

/** Walk the starts and ends in time order (ends first at one instant); `onStart` sees who runs then. */
function sweep<S extends Section>(sections: readonly S[], onStart: (running: S[], at: number) => void): void {
  const events = sections.flatMap((section) => [
    { at: section.from, starts: true, section },
    { at: section.to, starts: false, section },
  ]);
  events.sort((a, b) => a.at - b.at || Number(a.starts) - Number(b.starts));
  const running = new Set<S>();
  for (const event of events) {
    if (!event.starts) {
      running.delete(event.section);
      continue;
    }
    running.add(event.section);
    onStart([...running], event.at);
  }
}

/**
 * The most permit holders and the most readers that held at once (sections that ended "ok"), to
 * show a run did push the semaphore to its limit and did admit readers together.
 *
 * @example
 * sharedPeaks(history); // { permitHolders: 3, readers: 4 }
 */
export function sharedPeaks(history: readonly LockHistoryRecord[]): {
  permitHolders: number;
  readers: number;
} {
  const sections = heldSections(history);
  const peak = (kind: SharedKind) => {
    let most = 0;
    for (const group of groupBy(
      sections.filter((section) => section.kind === kind),
      (section) => section.key,
    ).values()) {
      sweep(group, (running) => {
        most = Math.max(most, running.length);
      });
    }
    return most;
  };
  return { permitHolders: peak('permit'), readers: peak('read') };
}
