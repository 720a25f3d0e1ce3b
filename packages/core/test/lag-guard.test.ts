import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { type LockLagEvent, LockLostError } from '../src/index.js';
import { useManagers } from './support/use-managers.js';

const createManager = useManagers();

/** Keep the event loop busy: no timer, no renewal can run meanwhile. */
function blockEventLoop(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // spin
  }
}

describe('LockManager: event-loop lag guard', () => {
  it('a stall that ate half the renewal margin emits lag with the keys at risk and renews at once', async () => {
    const { manager, backend } = createManager();
    const lags: LockLagEvent[] = [];
    manager.on('lag', (event) => lags.push(event));
    await manager.withLock('k', { leaseMs: 1_500 }, async (scope) => {
      await sleep(100);
      const extendsBefore = backend.count('extend');
      blockEventLoop(700); // margin 1000 ms: more than half of it, less than the lease
      await sleep(50);
      expect(backend.count('extend')).toBeGreaterThan(extendsBefore);
      expect(scope.signal.aborted).toBe(false);
    });
    expect(lags).toHaveLength(1);
    expect(lags[0]!.keys).toEqual(['k']);
    expect(lags[0]!.expiredKeys).toEqual([]);
    expect(lags[0]!.stalledMs).toBeGreaterThanOrEqual(600);
  });

  it('a stall past the lease names the key as expired, and the lock is lost, never renewed back', async () => {
    const { manager } = createManager();
    const lags: LockLagEvent[] = [];
    manager.on('lag', (event) => lags.push(event));
    const outcome = manager.withLock('k', { leaseMs: 400 }, async () => {
      await sleep(50);
      blockEventLoop(800);
      await sleep(50);
    });
    await expect(outcome).rejects.toBeInstanceOf(LockLostError);
    expect(lags[0]?.expiredKeys).toEqual(['k']);
  });

  it('a long await under a renewed lease is no stall: no lag event', async () => {
    const { manager } = createManager();
    const lags: LockLagEvent[] = [];
    manager.on('lag', (event) => lags.push(event));
    await manager.withLock('k', { leaseMs: 500 }, () => sleep(1_200));
    expect(lags).toEqual([]);
  });

  it('refuses a lagAlarmShare outside (0, 1]', () => {
    expect(() => createManager(undefined, { lagAlarmShare: 0 })).toThrow(/lagAlarmShare/);
    expect(() => createManager(undefined, { lagAlarmShare: 1.5 })).toThrow(/lagAlarmShare/);
  });
});
