import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LockManager, MemoryLockBackend, MemoryLockStore } from '@dlock/core';
import { afterAll, describe, expect, it } from 'vitest';
import { checkHistory } from './history-check.js';
import { HistoryRecorder, readHistory } from './history-recorder.js';

const directory = mkdtempSync(join(tmpdir(), 'dlock-history-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

describe('HistoryRecorder and readHistory', () => {
  it('records ok, typed and untyped outcomes from several recorders, and reads them back in order', async () => {
    const store = new MemoryLockStore();
    const files = [join(directory, 'one.jsonl'), join(directory, 'two.jsonl')];
    const recorders = files.map((file, index) => new HistoryRecorder(file, { process: `worker-${index}` }));
    const managers = recorders.map(
      () => new LockManager({ backends: { memory: new MemoryLockBackend({ store }) } }),
    );
    const run = (index: number, waitMs: number, work: () => Promise<void>) =>
      recorders[index]!.attempt({ key: 'k', waitMs }, (attempt) =>
        managers[index]!.withLock('k', waitMs > 0 ? { retry: { waitMs } } : {}, async (scope) => {
          attempt.acquired(scope.locks[0]?.fencingToken);
          await work();
        }),
      );
    const [first, second] = await Promise.all([
      run(0, 0, () => sleep(50)),
      sleep(10).then(() => run(1, 1_000, () => sleep(10))),
    ]);
    expect(first.outcome).toBe('ok');
    expect(second.outcome).toBe('ok');
    expect(second.acquiredAt!).toBeGreaterThanOrEqual(first.releasedAt!);
    expect(second.fencingToken!).toBeGreaterThan(first.fencingToken!);

    const holder = managers[0]!.withLock('k', {}, () => sleep(100));
    await sleep(10);
    const busy = await run(1, 0, async () => {});
    expect(busy).toMatchObject({ outcome: 'LOCK_NOT_ACQUIRED', errorName: 'LockNotAcquiredError' });
    expect(busy.failedAt).toBeGreaterThanOrEqual(busy.requestedAt);
    await holder;
    const untyped = await recorders[0]!.attempt({ key: 'k', faultInjected: true }, async (attempt) => {
      attempt.acquired(99);
      throw new TypeError('bug');
    });
    expect(untyped).toMatchObject({ outcome: 'untyped-error', errorName: 'TypeError', faultInjected: true });

    appendFileSync(files[1]!, '{"process":"torn'); // a worker killed mid-line
    const history = readHistory(files);
    expect(history).toHaveLength(4);
    expect(history.map((record) => record.requestedAt)).toEqual(
      [...history.map((record) => record.requestedAt)].sort((left, right) => left - right),
    );
    expect(checkHistory(history, { commandTimeoutMs: 500 }).map((violation) => violation.kind)).toEqual([
      'untyped-outcome',
    ]);
    await Promise.all(managers.map((manager) => manager.close()));
  });

  it('readHistory names the file and line of a corrupt record', () => {
    const file = join(directory, 'corrupt.jsonl');
    appendFileSync(file, '{"process":"a","key":"k","requestedAt":1,"outcome":"ok"}\nnot json\n');
    expect(() => readHistory(file)).toThrow(/corrupt\.jsonl:2/);
  });
});
