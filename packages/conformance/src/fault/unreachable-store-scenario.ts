import { setTimeout as sleep } from 'node:timers/promises';
import { LockBackendError } from '@dlock/core';
import { type LockHistoryRecord } from '@dlock/testing';
import { expect, it } from 'vitest';
import type { FaultFixture } from './fault-fixture.js';

/** Nothing listens at the store's address any more: callers fail fast, with the address named. */
export function describeUnreachableStoreScenario(fixture: FaultFixture): void {
  const { timings, scenario, link, behind } = fixture;

  it('the store is unreachable: try-once and a 300 ms wait fail with a LockBackendError naming the address within waitMs + grace, not after commandTimeoutMs', async () => {
    const { key, register, h } = scenario('unreachable');
    const gone = await link();
    const caller = await behind(gone);
    const address = `127.0.0.1:${gone.port}`;
    await gone.close(); // nothing listens there any more
    await sleep(300);
    const recorder = h.recorder('caller');
    for (const waitMs of [0, 300]) {
      let error: unknown;
      const record: LockHistoryRecord = await recorder.attempt({ key, waitMs }, (attempt) =>
        caller.manager
          .withLock(key, waitMs ? { retry: { waitMs } } : {}, async (scope) => {
            attempt.acquired(scope.locks[0]!.fencingToken);
          })
          .catch((failure: unknown) => {
            error = failure;
            throw failure;
          }),
      );
      const failedAfter = timings.note(
        `store unreachable: ${waitMs ? `wait ${waitMs} ms` : 'try-once'} fails after`,
        record.failedAt! - record.requestedAt,
      );
      expect(error).toBeInstanceOf(LockBackendError);
      expect((error as Error).message).toContain(address);
      expect((error as Error).cause).toBeInstanceOf(Error);
      expect(failedAfter).toBeLessThan(waitMs + 1_000);
    }
    expect(h.violations(register, 0)).toEqual([]);
  });
}
