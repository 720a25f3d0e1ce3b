import { describe, expect, it } from 'vitest';
import {
  type BackendAcquireRequest,
  type BackendLock,
  type LockBackend,
  LockLostError,
  LockManager,
  MemoryLockBackend,
} from '../src/index.js';
import { useManagers } from './support/use-managers.js';

const createManager = useManagers();

/** A backend that grants only when told to, ignoring the caller's signal (allowed by the contract). */
class SlowGrantBackend implements LockBackend {
  readonly inner = new MemoryLockBackend();
  releases = 0;
  #grant: (() => void) | undefined;

  async acquire(request: BackendAcquireRequest): Promise<BackendLock | null> {
    await new Promise<void>((resolve) => (this.#grant = resolve));
    const lock = await this.inner.acquire({ ...request, signal: new AbortController().signal });
    if (!lock) return null;
    return {
      ...lock,
      extend: (leaseMs) => lock.extend(leaseMs),
      release: async () => {
        this.releases++;
        return lock.release();
      },
    };
  }
  grant(): void {
    this.#grant?.();
  }
  // The grant arrives after close() on purpose: the store must still be able to give it.
  async close(): Promise<void> {}
}

describe('LockManager: races between a grant and giving up', () => {
  it('a grant that arrives after close() started is given back, and the work never runs', async () => {
    const backend = new SlowGrantBackend();
    const manager = new LockManager({ backends: { slow: backend } });
    let ran = false;
    const call = manager.withLock('k', { retry: { waitMs: 5_000 } }, async () => {
      ran = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const closing = manager.close();
    backend.grant();
    await closing;
    await expect(call).rejects.toThrow();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(ran).toBe(false);
    expect(backend.releases).toBe(1);
  });

  it('a grant that arrives after the caller aborted is given back, and the work never runs', async () => {
    const backend = new SlowGrantBackend();
    const manager = new LockManager({ backends: { slow: backend } });
    const controller = new AbortController();
    let ran = false;
    const call = manager.withLock('k', { retry: { waitMs: 5_000 }, signal: controller.signal }, async () => {
      ran = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    controller.abort(new Error('client went away'));
    backend.grant();
    await expect(call).rejects.toThrow();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(ran).toBe(false);
    expect(backend.releases).toBe(1);
    await manager.close();
  });

  it('re-entering a key whose outer lock was lost rejects with that loss instead of running unlocked', async () => {
    const { manager, backend } = createManager();
    let innerRan = false;
    const outer = manager.withLock('k', { leaseMs: 60_000 }, async (scope) => {
      backend.storeLoss.abort(new Error('session killed'));
      expect(scope.signal.aborted).toBe(true);
      await expect(
        manager.withLock('k', {}, async () => {
          innerRan = true;
        }),
      ).rejects.toBeInstanceOf(LockLostError);
    });
    await expect(outer).rejects.toBeInstanceOf(LockLostError);
    expect(innerRan).toBe(false);
  });
});
