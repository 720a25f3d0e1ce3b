import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type BackendAcquireRequest,
  type BackendLock,
  DistributedLock,
  DistributedSemaphore,
  getDistributedLockMetadata,
  InvalidLockKeyError,
  InvalidLockOptionsError,
  type LockBackend,
  LockKindUnsupportedError,
  LockManager,
  LockNotAcquiredError,
  LockUpgradeError,
  MemoryLockBackend,
  MemoryLockStore,
  SemaphorePermitsMismatchError,
} from '../src/index.js';

const open: LockManager[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((manager) => manager.close()));
});

function managers(count: number, store = new MemoryLockStore()): LockManager<'memory'>[] {
  return Array.from({ length: count }, () => {
    const manager = new LockManager({ backends: { memory: new MemoryLockBackend({ store }) } });
    open.push(manager);
    return manager;
  });
}

/** Counts callers inside a section at once. */
function overlapMeter() {
  let inside = 0;
  let max = 0;
  return {
    get max() {
      return max;
    },
    async run(ms: number): Promise<void> {
      inside++;
      max = Math.max(max, inside);
      await sleep(ms);
      inside--;
    },
  };
}

class MutexOnlyBackend implements LockBackend {
  async acquire(_request: BackendAcquireRequest): Promise<BackendLock | null> {
    return null;
  }
  async close(): Promise<void> {}
}

describe('semaphores (memory backend)', () => {
  it('admits at most permits holders at once, several from one process', async () => {
    const [a, b] = managers(2);
    const meter = overlapMeter();
    await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        (i % 2 ? a : b)!.withSemaphore('sem', { permits: 3, retry: { waitMs: 10_000 } }, () => meter.run(20)),
      ),
    );
    expect(meter.max).toBe(3);
  });

  it('try-once is refused when every permit is taken; permits carry increasing fencing tokens', async () => {
    const [a] = managers(1);
    const first = await a!.acquireSemaphore('sem', { permits: 2 });
    const second = await a!.acquireSemaphore('sem', { permits: 2 });
    expect(second.fencingToken).toBeGreaterThan(first.fencingToken!);
    await expect(a!.acquireSemaphore('sem', { permits: 2 })).rejects.toBeInstanceOf(LockNotAcquiredError);
    const run = await a!.tryWithSemaphore('sem', { permits: 2 }, () => 'ran');
    expect(run).toEqual({ acquired: false, reason: 'held' });
    await first.release();
    await expect(a!.withSemaphore('sem', { permits: 2 }, () => 'ran')).resolves.toBe('ran');
    await second.release();
  });

  it('serves waiters first come, first served', async () => {
    const [a, b] = managers(2);
    const holder = await a!.acquireSemaphore('fifo', { permits: 1 });
    const order: number[] = [];
    const waiters = [0, 1, 2, 3].map(async (i) => {
      await sleep(i * 20);
      await (i % 2 ? a : b)!.withSemaphore('fifo', { permits: 1, retry: { waitMs: 10_000 } }, async () => {
        order.push(i);
        await sleep(5);
      });
    });
    await sleep(150);
    await holder.release();
    await Promise.all(waiters);
    expect(order).toEqual([0, 1, 2, 3]);
  });

  it('a permits mismatch between callers of one key is a typed error', async () => {
    const [a, b] = managers(2);
    await a!.withSemaphore('mismatch', { permits: 2 }, async () => {
      const error = await b!.withSemaphore('mismatch', { permits: 3 }, () => 'ran').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SemaphorePermitsMismatchError);
      expect(error).toMatchObject({ key: 'mismatch', backend: 'memory', permits: 3, storedPermits: 2 });
      // The same mistake in one call chain is refused before any store call.
      await expect(a!.withSemaphore('mismatch', { permits: 5 }, () => 'ran')).rejects.toBeInstanceOf(
        SemaphorePermitsMismatchError,
      );
    });
    // Nobody holds it any more: new permits are fine.
    await expect(b!.withSemaphore('mismatch', { permits: 3 }, () => 'ran')).resolves.toBe('ran');
  });

  it('re-enters its own permit in one call chain; a semaphore and a lock of one key are unrelated', async () => {
    const [a] = managers(1);
    await a!.withSemaphore('shared-name', { permits: 1 }, async () => {
      await expect(a!.withSemaphore('shared-name', { permits: 1 }, () => 'inner')).resolves.toBe('inner');
      await expect(a!.withLock('shared-name', {}, () => 'lock')).resolves.toBe('lock');
    });
  });

  it('refuses bad permits, several keys, and backends without semaphores', async () => {
    const manager = new LockManager({
      backends: { memory: new MemoryLockBackend(), plain: new MutexOnlyBackend() },
      route: () => 'memory',
    });
    open.push(manager);
    for (const permits of [0, 1.5, -1, Number.NaN, '2']) {
      await expect(
        manager.withSemaphore('k', { permits: permits as number }, () => 'ran'),
      ).rejects.toBeInstanceOf(InvalidLockOptionsError);
    }
    await expect(
      manager.withSemaphore(['a', 'b'] as unknown as string, { permits: 2 }, () => 'ran'),
    ).rejects.toBeInstanceOf(InvalidLockKeyError);
    const error = await manager
      .withSemaphore('k', { permits: 2, backend: 'plain' }, () => 'ran')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockKindUnsupportedError);
    expect(error).toMatchObject({ kind: 'semaphore', backend: 'plain', supportedBy: ['memory'] });
    expect((error as Error).message).toContain('"memory"');
    await expect(
      manager.withLock('k', { mode: 'read', backend: 'plain' }, () => 'ran'),
    ).rejects.toBeInstanceOf(LockKindUnsupportedError);
  });

  it('a holder whose lease runs out gives its permit back', async () => {
    const [a, b] = managers(2);
    await a!.acquireSemaphore('lease', { permits: 1, leaseMs: 150 });
    const startedAt = Date.now();
    await b!.withSemaphore('lease', { permits: 1, retry: { waitMs: 5_000 } }, () => 'ran');
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(100);
  });
});

describe('read-write locks (memory backend)', () => {
  it('readers overlap; a writer overlaps nobody', async () => {
    const [a, b] = managers(2);
    const readers = overlapMeter();
    let writing = false;
    let broken = false;
    const runs = Array.from({ length: 16 }, (_, i) => {
      const manager = (i % 2 ? a : b)!;
      const write = i % 4 === 3;
      return manager.withLock(
        'rw',
        { mode: write ? 'write' : 'read', retry: { waitMs: 10_000 } },
        async () => {
          if (write) {
            if (writing) broken = true;
            writing = true;
            await sleep(10);
            writing = false;
          } else {
            if (writing) broken = true;
            await readers.run(20);
            if (writing) broken = true;
          }
        },
      );
    });
    await Promise.all(runs);
    expect(broken).toBe(false);
    expect(readers.max).toBeGreaterThan(1);
  });

  it('a plain lock (no mode) is the write lock: it excludes readers and they exclude it', async () => {
    const [a, b] = managers(2);
    await a!.withLock('plain', { mode: 'read' }, async () => {
      await expect(b!.withLock('plain', {}, () => 'ran')).rejects.toBeInstanceOf(LockNotAcquiredError);
      await expect(b!.withLock('plain', { mode: 'read' }, () => 'read')).resolves.toBe('read');
    });
    await a!.withLock('plain', {}, async () => {
      await expect(b!.withLock('plain', { mode: 'read' }, () => 'ran')).rejects.toBeInstanceOf(
        LockNotAcquiredError,
      );
    });
  });

  it('a waiting writer keeps later readers out; the readers queued behind it go in together after it', async () => {
    const [a, b, c] = managers(3);
    const events: string[] = [];
    const reader = await a!.acquire('order', { mode: 'read' });
    const writer = b!.withLock('order', { retry: { waitMs: 10_000 } }, async () => {
      events.push('writer');
      await sleep(30);
      events.push('writer done');
    });
    await sleep(30);
    // A try-once reader is refused while the writer waits, though only readers hold the key.
    await expect(c!.withLock('order', { mode: 'read' }, () => 'ran')).rejects.toBeInstanceOf(
      LockNotAcquiredError,
    );
    const meter = overlapMeter();
    const laterReaders = [a, c, a].map((manager, i) =>
      manager!.withLock('order', { mode: 'read', retry: { waitMs: 10_000 } }, async () => {
        events.push(`reader ${i}`);
        await meter.run(40);
      }),
    );
    await sleep(50);
    expect(events).toEqual([]);
    await reader.release();
    await Promise.all([writer, ...laterReaders]);
    expect(events.slice(0, 2)).toEqual(['writer', 'writer done']);
    expect(meter.max).toBe(3);
  });

  it('write inside read of the same key is refused at once; read inside write re-enters', async () => {
    const [a] = managers(1);
    await a!.withLock('nest', { mode: 'read' }, async () => {
      await expect(a!.withLock('nest', { mode: 'write' }, () => 'ran')).rejects.toBeInstanceOf(
        LockUpgradeError,
      );
      await expect(a!.withLock('nest', {}, () => 'ran')).rejects.toBeInstanceOf(LockUpgradeError);
      await expect(a!.withLock('nest', { mode: 'read' }, () => 'read')).resolves.toBe('read');
    });
    await a!.withLock('nest', {}, async () => {
      await expect(a!.withLock('nest', { mode: 'read' }, () => 'read')).resolves.toBe('read');
    });
  });

  it('readers carry fencing tokens from the key counter writers use', async () => {
    const [a] = managers(1);
    const write = await a!.acquire('fence');
    await write.release();
    const read = await a!.acquire('fence', { mode: 'read' });
    expect(read.fencingToken).toBeGreaterThan(write.fencingToken!);
    await read.release();
    const next = await a!.acquire('fence');
    expect(next.fencingToken).toBeGreaterThan(read.fencingToken!);
    await next.release();
  });

  it('refuses an unknown mode', async () => {
    const [a] = managers(1);
    await expect(a!.withLock('k', { mode: 'upgrade' as 'read' }, () => 'ran')).rejects.toBeInstanceOf(
      InvalidLockOptionsError,
    );
  });
});

describe('decorators', () => {
  it('@DistributedSemaphore and @DistributedLock({ mode }) run through the manager, mixed with programmatic calls', async () => {
    const [manager] = managers(1);
    const meter = overlapMeter();
    class Payments {
      @DistributedSemaphore({ key: 'psp:{0}', permits: 2, retry: { waitMs: 10_000 }, manager })
      async authorise(_provider: string): Promise<void> {
        await meter.run(20);
      }

      @DistributedLock({ key: 'catalog', mode: 'read', manager })
      async read(): Promise<string> {
        return 'read';
      }
    }
    const payments = new Payments();
    await Promise.all([
      ...Array.from({ length: 6 }, () => payments.authorise('acme')),
      ...Array.from({ length: 3 }, () =>
        manager!.withSemaphore('psp:acme', { permits: 2, retry: { waitMs: 10_000 } }, () => meter.run(20)),
      ),
    ]);
    expect(meter.max).toBe(2);
    await manager!.withLock('catalog', { mode: 'read' }, async () => {
      await expect(payments.read()).resolves.toBe('read');
    });
    expect(getDistributedLockMetadata(Payments.prototype, 'authorise')).toMatchObject({ permits: 2 });
    expect(getDistributedLockMetadata(Payments.prototype, 'read')).toMatchObject({ mode: 'read' });
    expect(() => DistributedSemaphore({ key: 'x', permits: 0 })).toThrow(InvalidLockOptionsError);
  });
});
