import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { currentLock, LockNotAcquiredError, MemoryLockStore } from '../src/index.js';
import { RecordingBackend } from './support/recording-backend.js';

import { useManagers } from './support/use-managers.js';

const createManager = useManagers();

describe('LockManager: reentrancy and several keys', () => {
  it('re-enters a key held by the same call chain without a store call; releases at the outermost exit', async () => {
    const { manager, backend } = createManager();
    await manager.withLock('k', {}, async () => {
      await manager.withLock('k', {}, async () => {
        const inner = await manager.acquire('k');
        await inner.release();
        expect(currentLock('k')).toBeDefined();
      });
      expect(backend.count('release')).toBe(0);
      expect(currentLock()?.key).toBe('k');
    });
    expect(backend.count('acquire')).toBe(1);
    expect(backend.count('release')).toBe(1);
    expect(currentLock()).toBeUndefined();
  });

  it('two different call chains of one process exclude each other', async () => {
    const { manager } = createManager();
    let inside = 0;
    let overlap = false;
    const section = () =>
      manager.withLock('k', { retry: { waitMs: 5_000 } }, async () => {
        inside++;
        if (inside > 1) overlap = true;
        await sleep(20);
        inside--;
      });
    await Promise.all([section(), section(), section()]);
    expect(overlap).toBe(false);
  });

  it('a task that outlives its lock scope no longer counts as holding it', async () => {
    const { manager, backend } = createManager();
    let detached: Promise<unknown> = Promise.resolve();
    await manager.withLock('k', {}, async () => {
      detached = sleep(50).then(() => manager.withLock('k', {}, async () => currentLock()?.key));
    });
    await expect(detached).resolves.toBe('k');
    expect(backend.count('acquire')).toBe(2);
  });

  it('takes several keys in sorted order, releases them in reverse, and exposes every lock', async () => {
    const { manager, backend } = createManager();
    await manager.withLock(['b', 'a', 'c', 'a'], {}, async (scope) => {
      expect(scope.locks.map((lock) => lock.key)).toEqual(['a', 'b', 'c']);
    });
    expect(backend.calls.map((call) => `${call.op}:${call.key}`)).toEqual([
      'acquire:a',
      'acquire:b',
      'acquire:c',
      'release:c',
      'release:b',
      'release:a',
    ]);
  });

  it('releases the keys already taken when a later key cannot be taken', async () => {
    const store = new MemoryLockStore();
    const a = createManager(new RecordingBackend(store));
    const b = createManager(new RecordingBackend(store));
    await a.manager.withLock('b', {}, async () => {
      await expect(b.manager.withLock(['a', 'b'], {}, async () => 1)).rejects.toBeInstanceOf(
        LockNotAcquiredError,
      );
    });
    expect(b.backend.calls.map((call) => `${call.op}:${call.key}`)).toEqual([
      'acquire:a',
      'acquire:b',
      'release:a',
    ]);
  });

  it('[a, b] against [b, a] does not deadlock', async () => {
    const store = new MemoryLockStore();
    const a = createManager(new RecordingBackend(store));
    const b = createManager(new RecordingBackend(store));
    const runs = Array.from({ length: 20 }, (_, i) =>
      (i % 2 ? a : b).manager.withLock(i % 2 ? ['x', 'y'] : ['y', 'x'], { retry: { waitMs: 5_000 } }, () =>
        sleep(2),
      ),
    );
    await expect(Promise.all(runs)).resolves.toHaveLength(20);
  });
});
