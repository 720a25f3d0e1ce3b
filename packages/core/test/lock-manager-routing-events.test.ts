import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { LockBackendError, LockLostError, LockManager } from '../src/index.js';
import { RecordingBackend } from './support/recording-backend.js';

import { useManagers } from './support/use-managers.js';

const createManager = useManagers();

describe('LockManager: routing, events, close', () => {
  it('routes no-retry calls to "spin" and waiting calls to "pubsub" by default', async () => {
    const spin = new RecordingBackend();
    const pubsub = new RecordingBackend();
    const manager = new LockManager({ backends: { spin, pubsub } });
    createManager.track(manager);
    await manager.withLock('k', {}, async () => {});
    await manager.withLock('k', { retry: true }, async () => {});
    expect([spin.count('acquire'), pubsub.count('acquire')]).toEqual([1, 1]);
    expect(pubsub.calls[0]?.waitMs).toBeGreaterThan(9_000);
    await manager.withLock('k', { retry: true, backend: 'spin' }, async () => {});
    expect(spin.count('acquire')).toBe(2);
  });

  it('a custom route and keyPrefix are applied', async () => {
    const backend = new RecordingBackend();
    const manager = new LockManager({ backends: { only: backend }, keyPrefix: 'shop:', route: () => 'only' });
    createManager.track(manager);
    await manager.withLock('k', {}, async () => {});
    expect(backend.calls[0]?.key).toBe('shop:k');
  });

  it('emits acquired, contended and released with timings; a throwing listener cannot break a lock', async () => {
    const { manager } = createManager();
    const seen: string[] = [];
    manager.on('acquired', (event) => seen.push(`acquired:${event.key}:${event.fencingToken}`));
    manager.on('released', (event) => {
      seen.push(`released:${event.key}`);
      expect(event.heldMs).toBeGreaterThanOrEqual(0);
    });
    manager.on('contended', (event) => seen.push(`contended:${event.key}`));
    manager.on('acquired', () => {
      throw new Error('listener bug');
    });
    const first = manager.withLock('k', {}, () => sleep(30));
    await sleep(1);
    const second = manager.withLock('k', { retry: true }, async () => {});
    await Promise.all([first, second]);
    expect(seen).toEqual(['acquired:k:1', 'contended:k', 'released:k', 'acquired:k:2', 'released:k']);
  });

  it('close() releases held locks in parallel: a slow store costs one release time, not one per lock', async () => {
    const slow = new RecordingBackend();
    const { manager } = createManager({
      acquire: async (request) => {
        const lock = await slow.acquire(request);
        if (!lock) return null;
        const release = async () => {
          await sleep(300);
          return lock.release();
        };
        return { ...lock, release };
      },
      close: () => slow.close(),
    } as RecordingBackend);
    await Promise.all(['a', 'b', 'c', 'd', 'e'].map((key) => manager.acquire(key, { leaseMs: 10_000 })));
    const startedAt = Date.now();
    await manager.close();
    expect(Date.now() - startedAt).toBeLessThan(1_000);
    expect(slow.count('release')).toBe(5);
  });

  it('events of one acquisition share its token, from acquiring to released, with label and keyTemplate', async () => {
    const { manager, backend } = createManager();
    const other = createManager(new RecordingBackend(backend.inner.store)).manager;
    const seen: string[] = [];
    const tokens = new Set<string>();
    for (const event of ['acquiring', 'acquired', 'renewed', 'released', 'failed', 'contended'] as const) {
      manager.on(
        event,
        (payload: { token: string; label: string | undefined; keyTemplate: string | undefined }) => {
          seen.push(`${event}:${payload.label}:${payload.keyTemplate}`);
          tokens.add(payload.token);
        },
      );
    }
    await manager.withLock('job:1', { leaseMs: 300, label: 'Jobs.run', keyTemplate: 'job:{0}' }, () =>
      sleep(250),
    );
    expect(tokens.size).toBe(1);
    expect(seen[0]).toBe('acquiring:Jobs.run:job:{0}');
    expect(seen).toContain('acquired:Jobs.run:job:{0}');
    expect(seen).toContain('renewed:Jobs.run:job:{0}');
    expect(seen.at(-1)).toBe('released:Jobs.run:job:{0}');

    seen.length = 0;
    const failures: string[] = [];
    manager.on('failed', (event) => failures.push(event.error.code));
    await other.withLock('job:2', {}, async () => {
      await manager.withLock('job:2', {}, async () => {}).catch(() => {});
      await manager.withLock('job:2', { retry: { waitMs: 30 } }, async () => {}).catch(() => {});
    });
    expect(failures).toEqual(['LOCK_NOT_ACQUIRED', 'LOCK_TIMEOUT']);
  });

  it('renewalFailed reports each renewal the store did not answer', async () => {
    const { manager, backend } = createManager();
    backend.extendError = new Error('ECONNRESET');
    const failed: unknown[] = [];
    manager.on('renewalFailed', (event) => failed.push(event.error));
    await manager.withLock('k', { leaseMs: 300 }, () => sleep(200)).catch(() => {});
    expect(failed.length).toBeGreaterThanOrEqual(1);
    expect(failed[0]).toEqual(new Error('ECONNRESET'));
  });

  it('every held lock ends in exactly one of released or lost: close() reports lost, a failed release reports untilLeaseEnd', async () => {
    const { manager, backend } = createManager();
    const ends: string[] = [];
    manager.on('released', (event) => ends.push(`released:${event.key}:${event.untilLeaseEnd}`));
    manager.on('lost', (event) => ends.push(`lost:${event.key}`));
    await manager.withLock('done', {}, async () => {});
    await manager.withLock('kept', { holdAtLeastMs: 5_000 }, async () => {});
    const failing = await manager.acquire('failing', { leaseMs: 5_000 });
    backend.releaseError = new Error('ECONNRESET');
    const warned = new Promise((resolve) => process.once('warning', resolve));
    await failing.release();
    await warned;
    backend.releaseError = undefined;
    await manager.acquire('open', { leaseMs: 5_000 });
    await manager.close();
    expect(ends).toEqual(['released:done:false', 'released:kept:true', 'released:failing:true', 'lost:open']);
  });

  it('close() aborts waiters, releases held locks, and refuses new calls', async () => {
    const { manager, backend } = createManager();
    const held = manager.withLock('k', {}, () => sleep(200));
    await sleep(5);
    const waiting = new Promise((resolve, reject) =>
      setImmediate(() => manager.withLock('k', { retry: true }, async () => 1).then(resolve, reject)),
    );
    await sleep(5);
    await manager.close();
    await expect(waiting).rejects.toBeInstanceOf(LockBackendError);
    await expect(held).rejects.toBeInstanceOf(LockLostError);
    expect(backend.count('release')).toBe(1);
    await expect(manager.withLock('x', {}, async () => 1)).rejects.toThrow(/closed/);
  });
});
