import { setTimeout as sleep } from 'node:timers/promises';
import { expect, it } from 'vitest';
import type { FaultFixture } from './fault-fixture.js';

/**
 * A holder behind a slow link (or a slowed in-memory backend) waits for the lock, then keeps it
 * past its wait across renewals: slowness alone must never cost a lock or delay its release.
 */
// Long enough for a spin poller's backoff to find the lock freed after the blocker's 150 ms even on
// a loaded machine; the point is the hold past the wait, not the wait's length.
const WAIT_MS = 1_000;

export function describeSlowLinkScenario(fixture: FaultFixture): void {
  const { store, timings, cleanup, scenario, open, direct, link, behind, takenOnce } = fixture;

  it(`taken after waiting (retry.waitMs ${WAIT_MS}) over a slow link, held past waitMs across renewals; the release frees it at once`, async () => {
    const { key, register, h } = scenario('slow-wait');
    const slow = store ? await link({ upMs: 2, downMs: 2, jitterMs: 1 }) : undefined;
    const blocker = store ? await direct() : await open('memory://fast');
    const holder = slow ? await behind(slow) : await open('memory://slow');
    const next = store ? await direct() : await open('memory://fast');
    const lost: string[] = [];
    holder.manager.on('lost', (event) => lost.push(event.key));
    const warnings: string[] = [];
    const onWarning = (warning: Error & { code?: string }) =>
      warnings.push(`${warning.code}: ${warning.message}`);
    process.on('warning', onWarning);
    cleanup(() => process.off('warning', onWarning));

    let blockerHolds!: () => void;
    const blockerHeld = new Promise<void>((resolve) => {
      blockerHolds = resolve;
    });
    const blocking = h.recorder('blocker').attempt({ key }, (attempt) =>
      blocker.manager.withLock(key, {}, async (scope) => {
        attempt.acquired(scope.locks[0]!.fencingToken);
        await register.write(key, scope.locks[0]!.fencingToken ?? 0, 'blocker');
        blockerHolds();
        await sleep(150);
      }),
    );
    await blockerHeld;
    const leaseMs = 500;
    let probesRefused = 0;
    const holderRecord = await h.recorder('holder').attempt({ key, waitMs: WAIT_MS }, (attempt) =>
      holder.manager.withLock(key, { retry: { waitMs: WAIT_MS }, leaseMs }, async (scope) => {
        const token = scope.locks[0]!.fencingToken ?? 0;
        attempt.acquired(token);
        expect((await register.write(key, token, 'holder')).accepted).toBe(true);
        // Four leases, a dozen renewals, most of them after the acquire's deadline.
        const until = Date.now() + 4 * leaseMs;
        while (Date.now() < until) {
          await sleep(leaseMs / 2);
          if (!(await takenOnce(next.manager, key))) probesRefused++;
        }
        expect(scope.signal.aborted).toBe(false);
        expect((await register.write(key, token, 'holder:end')).accepted).toBe(true);
        attempt.released();
      }),
    );
    const endedAt = Date.now();
    const nextRecord = await h.takeAndWrite('next', next.manager, key, register);
    await blocking;

    expect(holderRecord).toMatchObject({ outcome: 'ok' });
    expect(holderRecord.acquiredAt! - holderRecord.requestedAt).toBeLessThan(WAIT_MS + 1_000);
    expect(nextRecord).toMatchObject({ outcome: 'ok' });
    expect(probesRefused).toBeGreaterThanOrEqual(6);
    expect(lost).toEqual([]);
    expect(warnings).toEqual([]);
    const freeAfterMs = timings.note(
      'slow link: next caller takes it after the release',
      nextRecord.acquiredAt! - endedAt,
    );
    timings.note('slow link: waited for the lock', holderRecord.acquiredAt! - holderRecord.requestedAt);
    expect(freeAfterMs).toBeLessThan(500);
    expect(h.violations(register)).toEqual([]);
  });
}
