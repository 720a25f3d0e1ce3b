import { describe, expect, it } from 'vitest';
import { FencedRegister } from './fenced-register.js';
import { checkHistory } from './history-check.js';
import type { LockHistoryRecord } from './lock-history.js';

const section = (
  process: string,
  acquiredAt: number,
  releasedAt: number,
  extra: Partial<LockHistoryRecord> = {},
): LockHistoryRecord => ({
  process,
  key: 'stock:42',
  requestedAt: acquiredAt - 1,
  acquiredAt,
  releasedAt,
  outcome: 'ok',
  waitMs: 1_000,
  ...extra,
});

const options = { commandTimeoutMs: 500, graceMs: 100 };

describe('checkHistory', () => {
  it('finds nothing in a clean history (touching sections do not overlap)', () => {
    const history = [
      section('a', 1_000, 1_010),
      section('b', 1_010, 1_020),
      section('c', 1_015, 1_030, { key: 'other' }),
      {
        process: 'd',
        key: 'stock:42',
        requestedAt: 1_000,
        failedAt: 2_000,
        outcome: 'LOCK_TIMEOUT',
        waitMs: 1_000,
      },
    ] satisfies LockHistoryRecord[];
    expect(checkHistory(history, options)).toEqual([]);
  });

  it('overlap: two ok sections of one key at once, unless one had a fault injected', () => {
    const violations = checkHistory(
      [
        section('a', 1_000, 1_050),
        section('b', 1_040, 1_060),
        section('c', 1_055, 1_070, { faultInjected: true }),
      ],
      options,
    );
    expect(violations.map((violation) => violation.kind)).toEqual(['overlap']);
    expect(violations[0]!.records.map((record) => record.process)).toEqual(['a', 'b']);
    expect(violations[0]!.message).toMatch(
      /Two holders of "stock:42" at once: a .* and b .* overlap by 10 ms/,
    );
  });

  it('overlap: an ok section without releasedAt is open until the end', () => {
    const open = { ...section('a', 1_000, 0), releasedAt: undefined };
    const violations = checkHistory([open, section('b', 5_000, 5_010)], options);
    expect(violations.map((violation) => violation.kind)).toEqual(['overlap']);
  });

  it('stale-write-accepted: from the register write log', () => {
    const register = new FencedRegister({ enforce: false });
    register.writeNow('stock:42', 7, 'new');
    register.writeNow('stock:42', 6, 'stale');
    register.writeNow('other', 1, 'fine');
    const violations = checkHistory([], { ...options, register });
    expect(violations.map((violation) => violation.kind)).toEqual(['stale-write-accepted']);
    expect(violations[0]!.writes!.map((write) => write.token)).toEqual([7, 6]);
    expect(violations[0]!.message).toMatch(/token 6 .* after token 7/);

    const fenced = new FencedRegister();
    fenced.writeNow('stock:42', 7, 'new');
    fenced.writeNow('stock:42', 6, 'stale');
    expect(checkHistory([], { ...options, register: fenced })).toEqual([]);
  });

  it('untyped-outcome: a failure that is not a LockError', () => {
    const history: LockHistoryRecord[] = [
      {
        process: 'a',
        key: 'k',
        requestedAt: 1,
        failedAt: 2,
        outcome: 'untyped-error',
        errorName: 'TypeError',
      },
      { process: 'b', key: 'k', requestedAt: 1, failedAt: 2, outcome: 'LOCK_BACKEND_ERROR' },
      { process: 'c', key: 'k', requestedAt: 1, failedAt: 2, outcome: 'SOMETHING_ELSE' as 'ok' },
    ];
    const violations = checkHistory(history, options);
    expect(violations.map((violation) => [violation.kind, violation.records[0]!.process])).toEqual([
      ['untyped-outcome', 'a'],
      ['untyped-outcome', 'c'],
    ]);
    expect(violations[0]!.message).toMatch(/TypeError/);
  });

  it('wait-too-long: acquired or failed later than waitMs + commandTimeoutMs + graceMs', () => {
    const history: LockHistoryRecord[] = [
      {
        process: 'a',
        key: 'k',
        requestedAt: 0,
        acquiredAt: 1_600,
        releasedAt: 1_700,
        outcome: 'ok',
        waitMs: 1_000,
      },
      { process: 'b', key: 'k', requestedAt: 0, failedAt: 1_601, outcome: 'LOCK_TIMEOUT', waitMs: 1_000 },
      { process: 'c', key: 'k', requestedAt: 0, failedAt: 700, outcome: 'LOCK_NOT_ACQUIRED' },
    ];
    const violations = checkHistory(history, options);
    expect(violations.map((violation) => [violation.kind, violation.records[0]!.process])).toEqual([
      ['wait-too-long', 'b'],
      ['wait-too-long', 'c'],
    ]);
    expect(violations[0]!.message).toMatch(/gave up after 1601 ms, more than waitMs 1000 .* = 1600 ms/);
  });
});
