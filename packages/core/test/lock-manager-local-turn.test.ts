import { AsyncLocalStorage } from 'node:async_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { currentLock, LockAbortedError, LockBackendError, LockTimeoutError } from '../src/index.js';
import { useManagers } from './support/use-managers.js';

const createManager = useManagers();

/**
 * A one-key call queued behind another caller of its own process waits as a record, with no async
 * frame of its own, and goes on from a promise reaction when its turn comes: these pin down that
 * it still behaves as any call (events, async context, timeouts, aborts, close).
 */
describe('LockManager: waiting for the local turn', () => {
  it('goes on in the caller’s async context: the work and the acquired event see the caller’s store', async () => {
    const { manager } = createManager();
    const request = new AsyncLocalStorage<string>();
    const seenByEvent: (string | undefined)[] = [];
    manager.on('acquired', () => seenByEvent.push(request.getStore()));
    const holder = manager.withLock('k', {}, () => sleep(30));
    const waiters = ['a', 'b'].map((id) =>
      request.run(id, () =>
        manager.withLock('k', { retry: { waitMs: 5_000 } }, async () => {
          await sleep(1);
          return { id, store: request.getStore(), key: currentLock('k')?.key };
        }),
      ),
    );
    await holder;
    expect(await Promise.all(waiters)).toEqual([
      { id: 'a', store: 'a', key: 'k' },
      { id: 'b', store: 'b', key: 'k' },
    ]);
    expect(seenByEvent).toEqual([undefined, 'a', 'b']);
  });

  it('announces one token from acquiring to acquired, and says it was contended', async () => {
    const { manager } = createManager();
    const holder = await manager.acquire('k');
    const events: [string, string, boolean | undefined][] = [];
    manager.on('acquiring', (event) => events.push(['acquiring', event.token, undefined]));
    manager.on('contended', (event) => events.push(['contended', event.token, undefined]));
    manager.on('acquired', (event) => events.push(['acquired', event.token, event.contended]));
    const waiting = manager.acquire('k', { retry: { waitMs: 5_000 } });
    await holder.release();
    await (await waiting).release();
    expect(events.map(([name]) => name)).toEqual(['acquiring', 'contended', 'acquired']);
    expect(new Set(events.map(([, token]) => token)).size).toBe(1);
    expect(events[2]![2]).toBe(true);
  });

  it('times out with LockTimeoutError, a timeout and a failed event, without a store call', async () => {
    const { manager, backend } = createManager();
    const holder = await manager.acquire('k');
    const seen: string[] = [];
    manager.on('timeout', () => seen.push('timeout'));
    manager.on('failed', (event) => seen.push(`failed:${event.error.code}`));
    const error = await manager.acquire('k', { retry: { waitMs: 50 } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockTimeoutError);
    expect(seen).toEqual(['timeout', 'failed:LOCK_TIMEOUT']);
    expect(backend.count('acquire')).toBe(1);
    await holder.release();
    // The key's turn is not stranded by the waiter that left.
    await (await manager.acquire('k')).release();
  });

  it('an abort leaves the queue and the next waiter still gets the turn', async () => {
    const { manager } = createManager();
    const holder = await manager.acquire('k');
    const controller = new AbortController();
    const aborted = manager.acquire('k', { retry: { waitMs: 5_000 }, signal: controller.signal });
    const next = manager.acquire('k', { retry: { waitMs: 5_000 } });
    controller.abort(new Error('client went away'));
    await expect(aborted).rejects.toBeInstanceOf(LockAbortedError);
    await holder.release();
    await (await next).release();
  });

  it('close() rejects callers waiting without a signal of their own', async () => {
    const { manager } = createManager();
    await manager.acquire('k');
    const waiting = [1, 2, 3].map(() =>
      manager.acquire('k', { retry: { waitMs: 60_000 } }).catch((e: unknown) => e),
    );
    await manager.close();
    for (const error of await Promise.all(waiting)) expect(error).toBeInstanceOf(LockBackendError);
  });

  it('an abort or a close from a listener of the call’s own events ends its wait at once', async () => {
    const { manager } = createManager();
    await manager.acquire('k');
    const controller = new AbortController();
    manager.once('contended', () => controller.abort(new Error('listener gave up')));
    const aborted = manager.acquire('k', { retry: { waitMs: 60_000 }, signal: controller.signal });
    await expect(aborted).rejects.toBeInstanceOf(LockAbortedError);
    let closing: Promise<void> | undefined;
    manager.once('acquiring', () => {
      closing = manager.close();
    });
    const closed = manager.acquire('k', { retry: { waitMs: 60_000 } });
    await expect(closed).rejects.toBeInstanceOf(LockBackendError);
    await closing;
  });
});
