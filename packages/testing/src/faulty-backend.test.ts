import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type BackendAcquireRequest,
  LockBackendError,
  LockLostError,
  LockManager,
  MemoryLockBackend,
} from '@dlock/core';
import { describe, expect, it } from 'vitest';
import { FaultyBackend, faultyBackend } from './faulty-backend.js';

function request(overrides: Partial<BackendAcquireRequest> = {}): BackendAcquireRequest {
  return {
    key: 'key',
    token: randomUUID(),
    leaseMs: 5_000,
    waitMs: 0,
    signal: new AbortController().signal,
    ...overrides,
  };
}

async function elapsedMs<T>(run: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const startedAt = Date.now();
  const value = await run();
  return { value, ms: Date.now() - startedAt };
}

describe('faultyBackend', () => {
  it('without faults behaves like the wrapped backend', async () => {
    const backend = faultyBackend(new MemoryLockBackend());
    const first = await backend.acquire(request());
    expect(first).not.toBeNull();
    expect(await backend.acquire(request())).toBeNull();
    expect(await first!.extend(5_000)).toBe(true);
    expect(await first!.release()).toBe(true);
    const second = await backend.acquire(request());
    expect(second!.fencingToken).toBeGreaterThan(first!.fencingToken!);
    expect(await second!.release()).toBe(true);
    expect(await second!.release()).toBe(false);
    await backend.close();
  });

  it('adds latency to acquire, extend and release', async () => {
    const backend = faultyBackend(new MemoryLockBackend(), {
      delayMs: { acquire: 60, extend: 60, release: 60 },
    });
    const { value: lock, ms: acquireMs } = await elapsedMs(() => backend.acquire(request()));
    expect(acquireMs).toBeGreaterThanOrEqual(50);
    expect((await elapsedMs(() => lock!.extend(1_000))).ms).toBeGreaterThanOrEqual(50);
    expect((await elapsedMs(() => lock!.release())).ms).toBeGreaterThanOrEqual(50);
  });

  it('fails the next N calls, then clears the fault', async () => {
    const backend = faultyBackend(new MemoryLockBackend(), { failAcquire: { times: 2 } });
    await expect(backend.acquire(request())).rejects.toBeInstanceOf(LockBackendError);
    await expect(backend.acquire(request())).rejects.toThrow(/Injected fault: acquire failed/);
    expect(backend.faults.failAcquire).toBeUndefined();
    const lock = await backend.acquire(request());
    expect(lock).not.toBeNull();

    backend.faults.failExtend = { error: () => new Error('extend exploded') };
    await expect(lock!.extend(1_000)).rejects.toThrow('extend exploded');
    await expect(lock!.extend(1_000)).rejects.toThrow('extend exploded');
    backend.faults.failExtend = undefined;
    expect(await lock!.extend(1_000)).toBe(true);

    backend.setFaults({ failRelease: { times: 1, error: new Error('release exploded') } });
    await expect(lock!.release()).rejects.toThrow('release exploded');
    expect(await lock!.release()).toBe(true);
  });

  it('when: "after" does the call in the store and loses the reply', async () => {
    const memory = new MemoryLockBackend();
    const backend = faultyBackend(memory, { failAcquire: { times: 1, when: 'after' } });
    await expect(backend.acquire(request({ leaseMs: 200 }))).rejects.toBeInstanceOf(LockBackendError);
    // The lock was taken although the caller saw an error: it stays held until its lease ends.
    expect(await memory.acquire(request())).toBeNull();
    expect(await memory.acquire(request({ waitMs: 2_000 }))).not.toBeNull();
  });

  it('reports a lock lost after N ms: lostSignal aborts, extend and release answer false, the key is free', async () => {
    const backend = faultyBackend(new MemoryLockBackend(), { loseLockAfterMs: 80 });
    const lock = await backend.acquire(request());
    expect(lock!.lostSignal!.aborted).toBe(false);
    await sleep(150);
    expect(lock!.lostSignal!.aborted).toBe(true);
    expect(String(lock!.lostSignal!.reason)).toMatch(/lost after 80 ms/);
    expect(await lock!.extend(1_000)).toBe(false);
    backend.setFaults({});
    const next = await backend.acquire(request());
    expect(next).not.toBeNull();
    expect(await lock!.release()).toBe(false);
    expect(await next!.release()).toBe(true);
  });

  it('a lost lock aborts the LockManager scope signal and withLock rejects with LockLostError', async () => {
    const backend = faultyBackend(new MemoryLockBackend(), { loseLockAfterMs: 50 });
    const manager = new LockManager({ backends: { memory: backend } });
    let abortedInside = false;
    await expect(
      manager.withLock('lost', { leaseMs: 5_000 }, async (scope) => {
        await sleep(200);
        abortedInside = scope.signal.aborted;
      }),
    ).rejects.toBeInstanceOf(LockLostError);
    expect(abortedInside).toBe(true);
    await manager.close();
  });

  it('swallowed wake-ups: a waiter only gets the lock when its own wait ends', async () => {
    const backend = faultyBackend(new MemoryLockBackend(), { swallowWakeups: true });
    const holder = await backend.acquire(request());
    setTimeout(() => void holder!.release(), 50);
    let contended = 0;
    const { value: lock, ms } = await elapsedMs(() =>
      backend.acquire(request({ waitMs: 400, onContended: () => contended++ })),
    );
    expect(lock).not.toBeNull();
    expect(contended).toBe(1);
    expect(ms).toBeGreaterThanOrEqual(380);
    await lock!.release();

    // Without the fault the same waiter is woken by the release.
    backend.setFaults({});
    const again = await backend.acquire(request());
    setTimeout(() => void again!.release(), 50);
    const woken = await elapsedMs(() => backend.acquire(request({ waitMs: 2_000 })));
    expect(woken.ms).toBeLessThan(380);
    await woken.value!.release();
  });

  it('swallowed wake-ups with recheckMs: the waiter polls, and still times out with null', async () => {
    const backend = faultyBackend(new MemoryLockBackend(), { swallowWakeups: { recheckMs: 100 } });
    const holder = await backend.acquire(request());
    setTimeout(() => void holder!.release(), 30);
    const { value: lock, ms } = await elapsedMs(() => backend.acquire(request({ waitMs: 2_000 })));
    expect(lock).not.toBeNull();
    expect(ms).toBeGreaterThanOrEqual(90);
    expect(ms).toBeLessThan(1_500);
    const { value: none } = await elapsedMs(() => backend.acquire(request({ waitMs: 250 })));
    expect(none).toBeNull();
  });

  it('a waiting acquire rejects with the abort reason, and close() stops waiters', async () => {
    const backend = new FaultyBackend(new MemoryLockBackend(), { swallowWakeups: true });
    await backend.acquire(request());
    const controller = new AbortController();
    const waiting = backend.acquire(request({ waitMs: 5_000, signal: controller.signal }));
    setTimeout(() => controller.abort(new Error('gave up')), 30);
    await expect(waiting).rejects.toThrow('gave up');

    const beforeClose = backend.acquire(request({ waitMs: 5_000 }));
    setTimeout(() => void backend.close(), 30);
    await expect(beforeClose).rejects.toThrow(/closed/);
  });
});
