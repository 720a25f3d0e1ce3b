import type { LockHistoryRecord } from '@dlock/testing';
import { describe, expect, it } from 'vitest';
import { checkSharedHistory, sharedPeaks, sharedRecordKey } from '../chaos/shared-history-check.js';

const held = (
  process: string,
  kind: 'permit' | 'read' | 'write',
  acquiredAt: number,
  releasedAt: number,
  outcome: LockHistoryRecord['outcome'] = 'ok',
): LockHistoryRecord => ({
  process,
  key: sharedRecordKey(kind === 'permit' ? 'sem' : 'rw', kind),
  requestedAt: acquiredAt,
  acquiredAt,
  releasedAt,
  fencingToken: acquiredAt,
  outcome,
});
const check = (history: LockHistoryRecord[], permits = 3) =>
  checkSharedHistory(history, { permits, commandTimeoutMs: 1_000 });

describe('checkSharedHistory (the chaos run’s shared-locks check)', () => {
  it('allows up to `permits` holders at once, and flags the one above', () => {
    const three = [held('a', 'permit', 0, 100), held('b', 'permit', 10, 100), held('c', 'permit', 20, 100)];
    expect(check(three)).toEqual([]);
    const four = [...three, held('d', 'permit', 30, 40)];
    expect(check(four)).toEqual([expect.stringMatching(/^4 holders of the 3-permit semaphore "sem" at 30/)]);
    expect(sharedPeaks(four).permitHolders).toBe(4);
  });

  it('a holder that ended with LOCK_LOST does not count; touching ends do not overlap', () => {
    const history = [
      held('a', 'permit', 0, 100, 'LOCK_LOST'),
      held('b', 'permit', 10, 100),
      held('c', 'permit', 20, 100),
      held('d', 'permit', 30, 100),
      held('e', 'permit', 100, 150),
    ];
    expect(check(history)).toEqual([]);
  });

  it('readers share; a writer overlapping a reader or a writer is flagged once', () => {
    expect(
      check([held('a', 'read', 0, 100), held('b', 'read', 50, 150), held('c', 'write', 150, 200)]),
    ).toEqual([]);
    expect(check([held('a', 'read', 0, 100), held('c', 'write', 99, 200)])).toEqual([
      expect.stringMatching(/^A writer of "rw" overlapped another holder/),
    ]);
    expect(check([held('a', 'write', 0, 100), held('b', 'write', 0, 100)])).toHaveLength(1);
  });
});
