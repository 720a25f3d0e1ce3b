import { setTimeout as sleep } from 'node:timers/promises';
import { FencedRegisterServer, type LockHistoryRecord } from '@dlock/testing';
import { expect, it } from 'vitest';
import type { FaultFixture } from './fault-fixture.js';

/** Pub/sub handoffs that go wrong: the message is lost, the waiter it was meant for is dead. */
export function describeHandoffScenarios(
  fixture: FaultFixture,
  handoff: { readonly handoffLeaseMs: number; readonly maxSleepMs: number },
): void {
  const { store, timings, cleanup, scenario, freshKey, open, direct, link, history, worker } = fixture;
  const { handoffLeaseMs, maxSleepMs } = handoff;

  /** Release `held`, check the waiter then got the lock, and note how long after the release. */
  async function pickupAfterRelease(
    held: { release(): Promise<void> },
    waiting: Promise<LockHistoryRecord>,
    label: string,
  ): Promise<number> {
    const releasedAt = Date.now();
    await held.release();
    const record = await waiting;
    expect(record).toMatchObject({ outcome: 'ok' });
    return timings.note(label, record.acquiredAt! - releasedAt);
  }

  it('pub/sub: the handoff message is lost: the waiter still gets the lock within handoffLeaseMs', async () => {
    const { key, register, h } = scenario('handoff-lost');
    const subscriberLink = await link();
    const waiter = await open(store!.url, { subscriberUrl: subscriberLink.url(store!.url) });
    const holder = await direct();
    const held = await holder.manager.acquire(key, { leaseMs: 30_000 });
    await register.write(key, held.fencingToken ?? 0, 'holder');
    const contended = new Promise((resolve) => waiter.manager.once('contended', resolve));
    const waiting = h.takeAndWrite('waiter', waiter.manager, key, register, { retry: { waitMs: 15_000 } });
    await contended;
    await sleep(300); // subscribed, asleep
    subscriberLink.drop({ direction: 'down', chunks: 1 }); // the subscriber carries only the handoff
    const pickupMs = await pickupAfterRelease(
      held,
      waiting,
      'handoff message lost: waiter gets the lock after the release',
    );
    expect(pickupMs).toBeLessThan(handoffLeaseMs + 1_500);
    expect(h.violations(register)).toEqual([]);
  });

  it('pub/sub: the waiter at the head of the queue dies (SIGKILL): the next waiter gets the lock within handoffLeaseMs + slack', async () => {
    const key = freshKey('dead-waiter');
    const h = history('dead-waiter');
    const server = await FencedRegisterServer.start();
    cleanup(() => server.close());
    const holder = await direct();
    const held = await holder.manager.acquire(key, { leaseMs: 30_000 });
    const doomed = worker({
      MODE: 'wait',
      KEY: key,
      // Waiters are served earliest deadline first: the doomed one must end its wait before
      // the next one does, or the next one is at the head and the scenario tests nothing.
      WAIT_MS: '20000',
      REGISTER_PORT: String(server.port),
      HISTORY_FILE: h.file('doomed-waiter'),
      PROCESS_NAME: 'doomed-waiter',
    });
    await doomed.waitForLine('queued', 20_000);
    const next = await direct();
    const contended = new Promise((resolve) => next.manager.once('contended', resolve));
    const waiting = h.takeAndWrite('next-waiter', next.manager, key, server.register, {
      retry: { waitMs: 40_000 },
    });
    await contended;
    doomed.kill('SIGKILL');
    await doomed.exited;
    const pickupMs = await pickupAfterRelease(
      held,
      waiting,
      'dead waiter at the head: next waiter gets the lock after the release',
    );
    // The lock was handed to the dead waiter: nobody can have it before its pickup lease ends.
    expect(pickupMs).toBeGreaterThanOrEqual(handoffLeaseMs - 100);
    expect(pickupMs).toBeLessThan(handoffLeaseMs + maxSleepMs + 2_000);
    expect(h.violations(server.register)).toEqual([]);
  }, 60_000);
}
