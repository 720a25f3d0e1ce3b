import { getEventListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import {
  currentLock,
  InvalidLockKeyError,
  InvalidLockOptionsError,
  LockAbortedError,
  LockBackendError,
  LockError,
  LockLostError,
  LockManager,
  type LockManagerOptions,
  LockNotAcquiredError,
  LockTimeoutError,
  MemoryLockStore,
} from '../src/index.js';
import { RecordingBackend } from './support/recording-backend.js';

const managers: LockManager[] = [];
function createManager(backend = new RecordingBackend(), options: Partial<LockManagerOptions> = {}) {
  const manager = new LockManager({ backends: { memory: backend }, ...options });
  managers.push(manager);
  return { manager, backend };
}
afterEach(async () => {
  await Promise.all(managers.splice(0).map((manager) => manager.close()));
});

describe('LockManager: bad input fails before any store call', () => {
  const backend = new RecordingBackend();
  // Typed with plain string names, so the misspelled backends below reach the runtime check.
  const manager: LockManager = new LockManager({ backends: { memory: backend } });
  const noop = async () => 'ran';

  it.each([
    ['an empty key', ''],
    ['an empty key list', []],
    ['a key over 1024 characters', 'k'.repeat(1025)],
    ['a non-string key', 42 as unknown as string],
    ['a key built from undefined', `stock:${undefined}`],
    ['a key built from an object', `stock:${{}}`],
    ['a key with a lone high surrogate', 'stock:\uD83D'],
    ['a key with a lone low surrogate', '\uDE00:stock'],
  ])('%s -> InvalidLockKeyError', async (_label, key) => {
    await expect(manager.withLock(key as string, {}, noop)).rejects.toBeInstanceOf(InvalidLockKeyError);
    expect(backend.calls).toEqual([]);
  });

  it.each([
    ['leaseMs 0', { leaseMs: 0 }],
    ['leaseMs negative', { leaseMs: -5 }],
    ['leaseMs Infinity', { leaseMs: Number.POSITIVE_INFINITY }],
    ['leaseMs NaN', { leaseMs: Number.NaN }],
    ['waitMs 0', { retry: { waitMs: 0 } }],
    ['waitMs as a string', { retry: { waitMs: '100' as unknown as number } }],
    ['an unknown backend', { backend: 'redis' }],
    ['retry that is not boolean/object', { retry: 3 as unknown as boolean }],
    ['a signal that is not an AbortSignal', { signal: {} as AbortSignal }],
    ['a 30-day lease (Node would fire its timer after 1 ms)', { leaseMs: 30 * 86_400_000 }],
    ['a 30-day wait', { retry: { waitMs: 30 * 86_400_000 } }],
    ['holdAtLeastMs negative', { holdAtLeastMs: -1 }],
  ])('%s -> InvalidLockOptionsError', async (_label, options) => {
    await expect(manager.withLock('k', options, noop)).rejects.toBeInstanceOf(InvalidLockOptionsError);
    expect(backend.calls).toEqual([]);
  });

  it('a key with a well-formed surrogate pair (emoji) is accepted', async () => {
    await expect(manager.withLock('stock:\u{1F600}', {}, noop)).resolves.toBe('ran');
  });

  it('shows the type of a wrong value (environment variables arrive as strings)', async () => {
    await expect(manager.withLock('k', { leaseMs: '5000' as unknown as number }, noop)).rejects.toThrow(
      /leaseMs must be a positive number of milliseconds up to 2147483647, got "5000" \(string\)/,
    );
    await expect(manager.withLock('k', { leaseMs: 2 ** 31 }, noop)).rejects.toThrow(/about 24\.8 days/);
  });

  it("error.backend is the manager's name for the backend, also on errors the backend threw", async () => {
    const failing = new LockManager({
      backends: {
        spin: {
          acquire: async () => {
            throw new LockBackendError('store down', { backend: 'redis-spin' });
          },
          close: async () => {},
        },
      },
    });
    const error = await failing.withLock('k', {}, noop).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(LockBackendError);
    expect((error as LockBackendError).backend).toBe('spin');
    await failing.close();
  });

  it('names the known backends when the name is wrong', async () => {
    await expect(manager.withLock('k', { backend: 'spin' }, noop)).rejects.toThrow(
      /Unknown lock backend "spin".*"memory"/,
    );
  });

  it('refuses a manager without backends', () => {
    expect(() => new LockManager({ backends: {} })).toThrow(InvalidLockOptionsError);
  });
});

describe('LockManager: waiting', () => {
  it('try-once rejects at once with LockNotAcquiredError, after exactly one store attempt by the other server', async () => {
    const store = new MemoryLockStore();
    const a = createManager(new RecordingBackend(store));
    const b = createManager(new RecordingBackend(store));
    await a.manager.withLock('k', {}, async () => {
      const error = await b.manager.withLock('k', {}, async () => 'ran').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LockNotAcquiredError);
      expect(LockError.isInstance(error) && error.code).toBe('LOCK_NOT_ACQUIRED');
      expect(b.backend.calls).toEqual([{ op: 'acquire', key: 'k', waitMs: 0 }]);
    });
  });

  it('a try-once caller of the same process is refused locally without a store call', async () => {
    const { manager, backend } = createManager();
    await manager.withLock('k', {}, async () => {
      await Promise.resolve();
    });
    let leave!: () => void;
    let entered!: () => void;
    const hasEntered = new Promise<void>((resolve) => (entered = resolve));
    // Held until the assertion is done, however slow the machine is.
    const inside = manager.withLock('k', {}, () => {
      entered();
      return new Promise<void>((resolve) => (leave = resolve));
    });
    await hasEntered;
    await expect(
      // A different async chain: not reentrant.
      new Promise((resolve, reject) =>
        setImmediate(() => manager.withLock('k', {}, async () => 1).then(resolve, reject)),
      ),
    ).rejects.toBeInstanceOf(LockNotAcquiredError);
    leave();
    await inside;
    expect(backend.count('acquire')).toBe(2);
  });

  it('times out near retry.waitMs with LockTimeoutError and a timeout event', async () => {
    const store = new MemoryLockStore();
    const a = createManager(new RecordingBackend(store));
    const b = createManager(new RecordingBackend(store));
    const timeouts: number[] = [];
    b.manager.on('timeout', (event) => timeouts.push(event.waitedMs));
    await a.manager.withLock('k', {}, async () => {
      const startedAt = Date.now();
      const error = await b.manager
        .withLock('k', { retry: { waitMs: 300 } }, async () => 1)
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LockTimeoutError);
      expect((error as LockTimeoutError).waitMs).toBe(300);
      expect(Date.now() - startedAt).toBeGreaterThanOrEqual(290);
    });
    expect(timeouts).toHaveLength(1);
  });

  it('callers of one process queue locally (FIFO): only the head talks to the store', async () => {
    const { manager, backend } = createManager();
    const order: number[] = [];
    const holder = manager.withLock('k', {}, () => sleep(50));
    await sleep(5);
    const waiters = [1, 2, 3, 4, 5].map((n) =>
      manager.withLock('k', { retry: { waitMs: 5_000 } }, async () => {
        order.push(n);
        // While one of us holds the key, the rest wait locally: no store waiter piles up.
        expect(backend.calls.filter((call) => call.op === 'acquire').length).toBe(1 + order.length);
      }),
    );
    await Promise.all([holder, ...waiters]);
    expect(order).toEqual([1, 2, 3, 4, 5]);
    expect(backend.count('acquire')).toBe(6);
  });

  it('the AbortSignal cancels waiting with LockAbortedError', async () => {
    const { manager } = createManager();
    const controller = new AbortController();
    const holder = manager.withLock('k', {}, () => sleep(300));
    await sleep(5);
    const waiting = new Promise((resolve, reject) =>
      setImmediate(() =>
        manager
          .withLock('k', { retry: { waitMs: 10_000 }, signal: controller.signal }, async () => 1)
          .then(resolve, reject),
      ),
    );
    setTimeout(() => controller.abort(new Error('client went away')), 30);
    const error = await waiting.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockAbortedError);
    expect((error as LockAbortedError).cause).toEqual(new Error('client went away'));
    await holder;
  });

  it('lease arithmetic starts from the successful attempt, not from the first try', async () => {
    const store = new MemoryLockStore();
    const a = createManager(new RecordingBackend(store));
    const b = createManager(new RecordingBackend(store));
    const release = a.manager.acquire('k', { leaseMs: 5_000 });
    const held = await release;
    setTimeout(() => void held.release(), 300);
    const lock = await b.manager.acquire('k', { retry: { waitMs: 5_000 }, leaseMs: 1_000 });
    expect(lock.expiresAt - Date.now()).toBeGreaterThan(800);
    await lock.release();
  });
});

describe('LockManager: leases', () => {
  it('renewal keeps the lock for a section longer than the lease', async () => {
    const { manager, backend } = createManager();
    // A lease several times a loaded machine's timer jitter, held for more than three leases.
    await manager.withLock('k', { leaseMs: 600 }, async (scope) => {
      await sleep(2_000);
      expect(scope.signal.aborted).toBe(false);
    });
    expect(backend.count('extend')).toBeGreaterThanOrEqual(3);
  });

  it('a lock found gone at renewal aborts the signal, fires lost, and rejects with LockLostError after the method settles', async () => {
    const { manager, backend } = createManager();
    const lost: string[] = [];
    manager.on('lost', (event) => lost.push(event.key));
    let settled = false;
    const result = manager.withLock('k', { leaseMs: 150 }, async (scope) => {
      backend.loseOnExtend = true;
      await new Promise((resolve) => scope.signal.addEventListener('abort', resolve));
      expect(currentLock()?.signal.aborted).toBe(true);
      await sleep(20);
      settled = true;
      return 'finished';
    });
    const error = await result.catch((e: unknown) => e);
    expect(settled).toBe(true);
    expect(error).toBeInstanceOf(LockLostError);
    expect(lost).toEqual(['k']);
  });

  it('a backend that reports a loss through lostSignal makes the manager react at once, not at the next renewal', async () => {
    const { manager, backend } = createManager();
    const error = await manager
      .withLock('k', { leaseMs: 60_000 }, async (scope) => {
        setTimeout(() => backend.storeLoss.abort(new Error('session killed')), 10);
        await new Promise((resolve) => scope.signal.addEventListener('abort', resolve));
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockLostError);
    expect((error as LockLostError).cause).toEqual(new Error('session killed'));
    expect(backend.count('extend')).toBe(0);
  });

  it('a store that stays unreachable past the lease means the lock is lost, without unhandled rejections', async () => {
    const { manager, backend } = createManager();
    backend.extendError = new Error('ECONNREFUSED');
    const error = await manager
      .withLock('k', { leaseMs: 120 }, async (scope) => {
        await new Promise((resolve) => scope.signal.addEventListener('abort', resolve));
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockLostError);
    expect((error as LockLostError).cause).toEqual(new Error('ECONNREFUSED'));
    expect(backend.count('extend')).toBeGreaterThanOrEqual(2);
  });

  it('a handle from acquire() is not renewed unless autoRenew, and extend() renews it by hand', async () => {
    const { manager, backend } = createManager();
    const plain = await manager.acquire('a', { leaseMs: 100 });
    await sleep(250);
    expect(backend.count('extend')).toBe(0);
    expect(plain.signal.aborted).toBe(true);
    await expect(plain.release()).rejects.toBeInstanceOf(LockLostError);

    const renewed = await manager.acquire('b', { leaseMs: 100, autoRenew: true });
    await sleep(250);
    expect(renewed.signal.aborted).toBe(false);
    await renewed.release();

    const manual = await manager.acquire('c', { leaseMs: 150 });
    const before = manual.expiresAt;
    await sleep(50);
    await manual.extend(400);
    expect(manual.expiresAt).toBeGreaterThan(before);
    await sleep(200);
    expect(manual.signal.aborted).toBe(false);
    await manual.release();
    await expect(manual.release()).resolves.toBeUndefined();
  });

  it('a handle never released and not renewed frees the local turn when its lease ends', async () => {
    // The lease ending frees the key for other processes; callers of this process must not be
    // kept out longer than they are.
    const { manager } = createManager();
    const forgotten = await manager.acquire('k', { leaseMs: 100 });
    const startedAt = Date.now();
    await expect(manager.withLock('k', { retry: { waitMs: 2_000 } }, async () => 'next')).resolves.toBe(
      'next',
    );
    expect(Date.now() - startedAt).toBeLessThan(1_500);
    await expect(forgotten.release()).rejects.toBeInstanceOf(LockLostError);
    // The late release of the lost handle must not hand the turn to anyone a second time.
    const holder = await manager.acquire('k', { leaseMs: 5_000 });
    await expect(manager.withLock('k', {}, async () => 'barged')).rejects.toBeInstanceOf(
      LockNotAcquiredError,
    );
    await holder.release();
  });

  it('a lostSignal shared by every lock keeps no listener once the locks are released', async () => {
    const { manager, backend } = createManager();
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.name);
    process.on('warning', onWarning);
    try {
      for (let i = 0; i < 30; i++) await manager.withLock(`k${i}`, {}, async () => {});
      await Promise.all(Array.from({ length: 30 }, (_, i) => manager.withLock(`p${i}`, {}, async () => {})));
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', onWarning);
    }
    expect(getEventListeners(backend.storeLoss.signal, 'abort')).toHaveLength(0);
    expect(warnings).not.toContain('MaxListenersExceededWarning');
  });

  it('one caller signal shared by 50 concurrent waiting calls prints no listener warning', async () => {
    const { manager } = createManager();
    const shared = new AbortController();
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.name);
    process.on('warning', onWarning);
    try {
      const holder = await manager.acquire('busy', { leaseMs: 5_000 });
      const calls = Array.from({ length: 50 }, (_, i) =>
        manager.withLock(
          i % 2 ? 'busy' : `free${i}`,
          { retry: { waitMs: 5_000 }, signal: shared.signal },
          () => sleep(20),
        ),
      );
      await sleep(50);
      shared.abort(new Error('client went away'));
      const outcomes = await Promise.allSettled(calls);
      await holder.release();
      expect(outcomes.filter((outcome) => outcome.status === 'rejected').length).toBe(25);
      expect(getEventListeners(shared.signal, 'abort')).toHaveLength(0);
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings).not.toContain('MaxListenersExceededWarning');
  });

  it('a release that fails at the store does not fail the finished work', async () => {
    const failing = new RecordingBackend();
    const { manager } = createManager(failing);
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.message);
    process.on('warning', onWarning);
    try {
      const lock = failing.acquire.bind(failing);
      failing.acquire = async (request) => {
        const held = await lock(request);
        return held && { ...held, release: () => Promise.reject(new Error('connection reset')) };
      };
      await expect(manager.withLock('k', {}, async () => 'done')).resolves.toBe('done');
      await sleep(10);
      expect(warnings.some((message) => message.includes('connection reset'))).toBe(true);
    } finally {
      process.off('warning', onWarning);
    }
  });
});

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

describe('LockManager: routing, events, close', () => {
  it('routes no-retry calls to "spin" and waiting calls to "pubsub" by default', async () => {
    const spin = new RecordingBackend();
    const pubsub = new RecordingBackend();
    const manager = new LockManager({ backends: { spin, pubsub } });
    managers.push(manager);
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
    managers.push(manager);
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
        return lock && { ...lock, release: async () => (await sleep(300), lock.release()) };
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
