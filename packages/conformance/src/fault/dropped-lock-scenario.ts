import { LockManager } from '@dlock/core';
import { faultyBackend } from '@dlock/testing';
import { expect, it } from 'vitest';
import { loadFaultBackend } from './fault-backend.js';
import { type FaultFixture, LEASE_MS } from './fault-fixture.js';

/** The store loses a held lock on its own (in-memory backend only: `faultyBackend` drops it). */
export function describeDroppedLockScenario(fixture: FaultFixture): void {
  const { timings, cleanup, scenario, open, keyPrefix } = fixture;

  it('a lock the store drops while held: signal aborts, LockLostError, the stale write is refused', async () => {
    const { key, register, h } = scenario('store-drops');
    const created = await (await loadFaultBackend(fixture.backendModule))('memory://fast', { keyPrefix });
    const dropping = faultyBackend(created.backend, { loseLockAfterMs: LEASE_MS });
    const holder = new LockManager({ backends: { main: dropping } });
    const other = await open('memory://fast');
    cleanup(() => holder.close());
    let lostAfterMs: number | undefined;
    const record = await h.recorder('holder').attempt({ key }, (attempt) =>
      holder.withLock(key, { leaseMs: 30_000 }, async (scope) => {
        const token = scope.locks[0]!.fencingToken ?? 0;
        attempt.acquired(token);
        await register.write(key, token, 'holder');
        const startedAt = Date.now();
        await new Promise((resolve) => scope.signal.addEventListener('abort', resolve, { once: true }));
        lostAfterMs = Date.now() - startedAt;
        await h.takeAndWrite('other', other.manager, key, register);
        expect((await register.write(key, token, 'stale')).accepted).toBe(false);
      }),
    );
    expect(record).toMatchObject({ outcome: 'LOCK_LOST', errorName: 'LockLostError' });
    timings.note('store drops the lock: signal aborts after', lostAfterMs!);
    expect(lostAfterMs!).toBeLessThan(LEASE_MS + 1_000);
    expect(h.violations(register)).toEqual([]);
  });
}
