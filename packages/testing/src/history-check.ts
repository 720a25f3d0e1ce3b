import type { FencedWrite } from './fenced-register.js';
import { LOCK_ERROR_CODES, type LockHistoryRecord } from './lock-history.js';

/**
 * What {@link checkHistory} can find wrong.
 *
 * - `overlap`: two `"ok"` critical sections of one key overlapped in time, neither with `faultInjected`.
 * - `stale-write-accepted`: the register accepted a write with a lower token after a higher one.
 * - `untyped-outcome`: an attempt failed with something other than a `LockError`.
 * - `wait-too-long`: an attempt got (or gave up on) the lock later than `waitMs + commandTimeoutMs + graceMs`.
 *
 * @example
 * const kinds: HistoryViolationKind[] = ['overlap'];
 */
export type HistoryViolationKind = 'overlap' | 'stale-write-accepted' | 'untyped-outcome' | 'wait-too-long';

/**
 * One problem in a history, with a message meant for a failing test's output.
 *
 * @example
 * for (const violation of checkHistory(history, options)) console.error(violation.message);
 */
export interface HistoryViolation {
  readonly kind: HistoryViolationKind;
  readonly key: string;
  readonly message: string;
  /** The records involved (two for `overlap`, one otherwise; none for `stale-write-accepted`). */
  readonly records: readonly LockHistoryRecord[];
  /** For `stale-write-accepted`: the newer write, then the stale one accepted after it. */
  readonly writes?: readonly FencedWrite[];
}

/**
 * @example
 * const options: HistoryCheckOptions = { commandTimeoutMs: 1000, graceMs: 500, register };
 */
export interface HistoryCheckOptions {
  /** The store client's command timeout: how long past `waitMs` an attempt may legitimately take. */
  readonly commandTimeoutMs: number;
  /** Extra slack for a loaded machine (scheduling, GC). Default 250 ms. */
  readonly graceMs?: number;
  /** A register (or anything with its `writes` log) whose writes to check for accepted stale tokens. */
  readonly register?: { readonly writes: readonly FencedWrite[] };
}

const DEFAULT_GRACE_MS = 250;

/**
 * Check a recorded history for lock-safety and liveness violations. An empty list means none were
 * found.
 *
 * @example
 * const violations = checkHistory(readHistory(files), { commandTimeoutMs: 1000, register: server.register });
 * expect(violations.map((violation) => violation.message)).toEqual([]);
 */
export function checkHistory(
  history: readonly LockHistoryRecord[],
  options: HistoryCheckOptions,
): HistoryViolation[] {
  return [
    ...findOverlaps(history),
    ...(options.register ? findStaleWrites(options.register.writes) : []),
    ...findUntypedOutcomes(history),
    ...findLongWaits(history, options.commandTimeoutMs + (options.graceMs ?? DEFAULT_GRACE_MS)),
  ];
}

function findOverlaps(history: readonly LockHistoryRecord[]): HistoryViolation[] {
  const violations: HistoryViolation[] = [];
  const sectionsByKey = new Map<string, LockHistoryRecord[]>();
  for (const record of history) {
    if (record.outcome !== 'ok' || record.acquiredAt === undefined || record.faultInjected) continue;
    const sections = sectionsByKey.get(record.key) ?? [];
    sections.push(record);
    sectionsByKey.set(record.key, sections);
  }
  for (const [key, sections] of sectionsByKey) {
    sections.sort((left, right) => left.acquiredAt! - right.acquiredAt!);
    // Sections still open when a later one starts; an "ok" record without releasedAt never ended.
    let open: LockHistoryRecord[] = [];
    for (const section of sections) {
      open = open.filter((earlier) => endOf(earlier) > section.acquiredAt!);
      for (const earlier of open) {
        violations.push({
          kind: 'overlap',
          key,
          records: [earlier, section],
          message:
            `Two holders of "${key}" at once: ${describe(earlier)} and ${describe(section)} ` +
            `overlap by ${Math.min(endOf(earlier), endOf(section)) - section.acquiredAt!} ms.`,
        });
      }
      open.push(section);
    }
  }
  return violations;
}

function findStaleWrites(writes: readonly FencedWrite[]): HistoryViolation[] {
  const violations: HistoryViolation[] = [];
  const newestByKey = new Map<string, FencedWrite>();
  for (const write of writes) {
    if (!write.accepted) continue;
    const newest = newestByKey.get(write.key);
    if (newest && write.token < newest.token) {
      violations.push({
        kind: 'stale-write-accepted',
        key: write.key,
        records: [],
        writes: [newest, write],
        message:
          `The register accepted a stale write to "${write.key}": token ${write.token} at ${write.at} ` +
          `after token ${newest.token} at ${newest.at}; the resource is not fenced.`,
      });
      continue;
    }
    if (!newest || write.token >= newest.token) newestByKey.set(write.key, write);
  }
  return violations;
}

function findUntypedOutcomes(history: readonly LockHistoryRecord[]): HistoryViolation[] {
  const typed = new Set<string>(['ok', ...LOCK_ERROR_CODES]);
  return history
    .filter((record) => !typed.has(record.outcome))
    .map((record) => ({
      kind: 'untyped-outcome' as const,
      key: record.key,
      records: [record],
      message:
        `${describe(record)} failed with ${record.errorName ?? 'an error'} (outcome "${record.outcome}"), ` +
        'not a LockError: every lock failure should carry a dlock error code.',
    }));
}

function findLongWaits(history: readonly LockHistoryRecord[], slackMs: number): HistoryViolation[] {
  const violations: HistoryViolation[] = [];
  for (const record of history) {
    const settledAt = record.acquiredAt ?? record.failedAt;
    if (settledAt === undefined) continue;
    const waitedMs = settledAt - record.requestedAt;
    const allowedMs = (record.waitMs ?? 0) + slackMs;
    if (waitedMs <= allowedMs) continue;
    violations.push({
      kind: 'wait-too-long',
      key: record.key,
      records: [record],
      message:
        `${describe(record)} ${record.acquiredAt === undefined ? 'gave up' : 'got the lock'} after ${waitedMs} ms, ` +
        `more than waitMs ${record.waitMs ?? 0} + commandTimeoutMs + graceMs = ${allowedMs} ms.`,
    });
  }
  return violations;
}

function endOf(record: LockHistoryRecord): number {
  return record.releasedAt ?? Number.POSITIVE_INFINITY;
}

function describe(record: LockHistoryRecord): string {
  const token = record.fencingToken === undefined ? '' : `, token ${record.fencingToken}`;
  const held =
    record.acquiredAt === undefined
      ? ''
      : ` held ${record.acquiredAt}..${record.releasedAt ?? 'never released'}`;
  return `${record.process} (requested ${record.requestedAt}${held}${token})`;
}
