import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import {
  DistributedLock,
  InvalidLockOptionsError,
  LockInspectionUnsupportedError,
  LockManager,
  MemoryLockBackend,
  MemoryLockStore,
  setDefaultLockManager,
} from '../src/index.js';
import { useManagers } from './support/use-managers.js';

const createManager = useManagers();

/** Two "servers" of one app: managers whose memory backends share one store. */
function twoServers(options: { keyPrefix?: string } = {}) {
  const store = new MemoryLockStore();
  const make = (appName: string) => {
    const manager = new LockManager({
      backends: { memory: new MemoryLockBackend({ store }) },
      appName,
      ...options,
    });
    createManager.track(manager);
    return manager;
  };
  return { holder: make('holder-app'), operator: make('operator-app') };
}

/** Hold `key` in `manager` until the returned release() is called. */
async function hold(manager: LockManager, key: string, options: { label?: string; leaseMs?: number } = {}) {
  let release!: () => void;
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  let signal!: AbortSignal;
  const held = new Promise<void>((resolve) => {
    void manager
      .withLock(key, { leaseMs: 5_000, ...options }, async (scope) => {
        signal = scope.signal;
        resolve();
        await released;
      })
      .catch(() => undefined);
  });
  await held;
  return { release, signal: () => signal };
}

describe('LockManager: inspect, list, forceRelease', () => {
  it('inspect shows who holds a key: host, pid, app name, label, since when, lease, fence, waiters', async () => {
    const { holder, operator } = twoServers();
    const before = Date.now();
    const held = await hold(holder, 'stock:42', { label: 'StockService.decrease' });
    const waiting = operator.withLock('stock:42', { retry: { waitMs: 5_000 } }, () => 'second');
    await new Promise((resolve) => setTimeout(resolve, 50));

    const lock = await operator.inspect('stock:42');
    expect(lock).toMatchObject({
      key: 'stock:42',
      backend: 'memory',
      held: true,
      fencingToken: 1,
      waiters: 1,
      owner: { host: hostname(), pid: process.pid, appName: 'holder-app', label: 'StockService.decrease' },
    });
    expect(lock.owner?.acquiredAt).toBeGreaterThanOrEqual(before);
    expect(lock.leaseRemainingMs).toBeGreaterThan(0);
    expect(lock.leaseRemainingMs).toBeLessThanOrEqual(5_000);
    held.release();
    expect(await waiting).toBe('second');
    expect(await operator.inspect('stock:42')).toMatchObject({ held: false, fencingToken: 2, waiters: 0 });
  });

  it('a decorated method is recorded as Class.method', async () => {
    const manager = new LockManager({ backends: { memory: new MemoryLockBackend() }, appName: 'shop' });
    createManager.track(manager);
    setDefaultLockManager(manager);
    let seen: unknown;
    class StockService {
      @DistributedLock({ key: 'stock:{0}' })
      async decrease(productId: string) {
        seen = (await manager.inspect(`stock:${productId}`)).owner?.label;
      }
    }
    await new StockService().decrease('7');
    expect(seen).toBe('StockService.decrease');
  });

  it('list is bounded, sorted, filtered by prefix, and keys come back as users wrote them', async () => {
    const { holder, operator } = twoServers({ keyPrefix: 'shop:' });
    const held = await Promise.all(
      ['stock:2', 'stock:1', 'order:9', 'stock:3'].map((key) => hold(holder, key)),
    );
    const stock = await operator.list({ prefix: 'stock:' });
    expect(stock.map((lock) => lock.key)).toEqual(['stock:1', 'stock:2', 'stock:3']);
    expect(stock.every((lock) => lock.held && lock.owner?.appName === 'holder-app')).toBe(true);
    expect(await operator.list({ limit: 2 })).toHaveLength(2);
    expect((await operator.list()).map((lock) => lock.key)).toContain('order:9');
    for (const lock of held) lock.release();
  });

  it('forceRelease frees a lock another manager holds: its holder loses it, the next holder gets a greater fence', async () => {
    const { holder, operator } = twoServers();
    const lost: string[] = [];
    holder.on('lost', (event) => lost.push(event.key));
    const held = await hold(holder, 'job:1', { leaseMs: 300 });
    const result = await operator.forceRelease('job:1');
    expect(result).toMatchObject({ key: 'job:1', released: true, previousFencingToken: 1 });
    expect(result.previousOwner?.appName).toBe('holder-app');
    const fence = await operator.withLock('job:1', {}, (scope) => scope.locks[0]?.fencingToken);
    expect(fence).toBeGreaterThan(1);
    // The holder finds out at its next renewal (a third of its lease).
    await new Promise<void>((resolve) =>
      held.signal().addEventListener('abort', () => resolve(), { once: true }),
    );
    expect(lost).toEqual(['job:1']);
    held.release();
    expect(await operator.forceRelease('job:1')).toMatchObject({ released: false });
  });

  it('a backend without the capability fails with LockInspectionUnsupportedError naming the ones that have it', async () => {
    const bare = { acquire: async () => null, close: async () => undefined };
    const manager = new LockManager({ backends: { bare, memory: new MemoryLockBackend() } });
    createManager.track(manager);
    const error = await manager.inspect('k', { backend: 'bare' }).catch((caught: unknown) => caught);
    expect(LockInspectionUnsupportedError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({
      code: 'LOCK_INSPECTION_UNSUPPORTED',
      capability: 'inspect',
      supportedBy: ['memory'],
    });
    expect((error as Error).message).toContain('"memory"');
    // Without backend: the first backend that can.
    expect((await manager.inspect('k')).backend).toBe('memory');
    await expect(manager.list({ backend: 'nope' as 'bare' })).rejects.toThrow(InvalidLockOptionsError);
    await expect(manager.list({ limit: 0 })).rejects.toThrow(/limit/);
    const only = new LockManager({ backends: { bare } });
    createManager.track(only);
    await expect(only.forceRelease('k')).rejects.toThrow(/does not support forceRelease/);
  });
});
