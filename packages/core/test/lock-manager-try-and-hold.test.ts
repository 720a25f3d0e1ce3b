import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { LockNotAcquiredError } from '../src/index.js';
import { RecordingBackend } from './support/recording-backend.js';

import { useManagers } from './support/use-managers.js';

const createManager = useManagers();

describe('LockManager: tryWithLock and holdAtLeastMs', () => {
  it('runs fn and reports acquired when the key is free', async () => {
    const { manager } = createManager();
    await expect(manager.tryWithLock('job', {}, async () => 42)).resolves.toEqual({
      acquired: true,
      value: 42,
    });
  });

  it('a held key or a wait that runs out is an answer, with a skipped event, and fn never runs', async () => {
    const { manager, backend } = createManager();
    const other = createManager(new RecordingBackend(backend.inner.store)).manager;
    const skipped: string[] = [];
    manager.on('skipped', (event) => skipped.push(`${event.key}:${event.backend}:${event.reason}`));
    let ran = 0;
    await other.withLock('job', {}, async () => {
      await expect(manager.tryWithLock('job', {}, async () => ran++)).resolves.toEqual({
        acquired: false,
        reason: 'held',
      });
      await expect(manager.tryWithLock('job', { retry: { waitMs: 50 } }, async () => ran++)).resolves.toEqual(
        {
          acquired: false,
          reason: 'timeout',
        },
      );
    });
    expect(ran).toBe(0);
    expect(skipped).toEqual(['job:memory:held', 'job:memory:timeout']);
  });

  it('errors from inside fn still reject, even a LockNotAcquiredError of a nested lock', async () => {
    const { manager, backend } = createManager();
    const other = createManager(new RecordingBackend(backend.inner.store)).manager;
    const nested = await other.acquire('inner', { leaseMs: 5_000 });
    await expect(
      manager.tryWithLock('outer', {}, () => manager.withLock('inner', {}, async () => 'never')),
    ).rejects.toBeInstanceOf(LockNotAcquiredError);
    await nested.release();
  });

  it('holdAtLeastMs shortens the lease instead of releasing, then the lock frees itself', async () => {
    const { manager, backend } = createManager();
    const other = createManager(new RecordingBackend(backend.inner.store)).manager;
    const startedAt = Date.now();
    await manager.withLock('job', { holdAtLeastMs: 300 }, async () => 'done');
    expect(backend.count('release')).toBe(0);
    expect(backend.count('extend')).toBe(1);
    await expect(other.tryWithLock('job', {}, async () => 'late replica')).resolves.toMatchObject({
      acquired: false,
    });
    await expect(
      other.tryWithLock('job', { retry: { waitMs: 2_000 } }, async () => 'next run'),
    ).resolves.toEqual({
      acquired: true,
      value: 'next run',
    });
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(290);
  });

  it('holdAtLeastMs shorter than the work releases at once at the end', async () => {
    const { manager, backend } = createManager();
    await manager.withLock('job', { holdAtLeastMs: 10 }, () => sleep(30));
    expect(backend.count('release')).toBe(1);
  });
});
