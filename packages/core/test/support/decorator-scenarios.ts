import 'reflect-metadata';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import {
  currentLock,
  getDistributedLockMetadata,
  InvalidLockKeyError,
  InvalidLockOptionsError,
  LockManager,
  LockNotAcquiredError,
  setDefaultLockManager,
} from '../../src/index.js';
import { RecordingBackend } from './recording-backend.js';

/** What each decorator mode's test file builds with its own decorator syntax. */
export interface DecoratedServices {
  stock: {
    readonly count: number;
    decrease(productId: string, quantity: number): Promise<number>;
    decreaseTwice(productId: string): Promise<number>;
  };
  orders: { reserve(order: { items: string[] }): Promise<string | undefined> };
  /** `onLocked: 'skip'`, `holdAtLeastMs: 300` on `job:{0}`. */
  jobs: { readonly runs: number; nightly(day: string): Promise<string | undefined> };
  StockClass: object;
  /** Defines a class with a sync method decorated despite the types; must throw before running it. */
  decorateSyncMethod(onRun: () => void): void;
  /** Defines a class with the decorator on a getter; must throw TypeError. */
  decorateGetter(): void;
  /** Defines a class keyed 'order:${0}' in plain quotes; must throw InvalidLockKeyError. */
  decorateDollarTemplate(): void;
  /** Defines a class with a template key that does not parse; must throw InvalidLockKeyError. */
  decorateBadTemplate(): void;
  /** Defines a class naming a backend its manager does not have; must throw InvalidLockOptionsError. */
  decorateUnknownBackend(manager: LockManager): void;
}

/** The same behaviour, proven under legacy `experimentalDecorators` and TC39 standard decorators. */
export function describeDecoratorMode(mode: string, create: () => DecoratedServices): void {
  describe(`@DistributedLock (${mode})`, () => {
    let backend: RecordingBackend;
    let manager: LockManager;
    const setUp = () => {
      backend = new RecordingBackend();
      manager = new LockManager({ backends: { memory: backend } });
      setDefaultLockManager(manager);
      return create();
    };
    afterEach(async () => {
      setDefaultLockManager(undefined);
      await manager.close();
    });

    it('serializes concurrent calls on the same key: a non-atomic update ends exact', async () => {
      const { stock } = setUp();
      await Promise.all(Array.from({ length: 20 }, () => stock.decrease('p1', 1)));
      expect(stock.count).toBe(80);
      expect(
        backend.calls.filter((call) => call.op === 'acquire').every((call) => call.key === 'stock:p1'),
      ).toBe(true);
    });

    it('keeps `this`, the method name, the arguments and the return value', async () => {
      const { stock, StockClass } = setUp();
      await expect(stock.decrease('p1', 5)).resolves.toBe(95);
      expect((StockClass as { prototype: { decrease: { name: string } } }).prototype.decrease.name).toBe(
        'decrease',
      );
    });

    it('re-enters a key held by the same call chain', async () => {
      const { stock } = setUp();
      await expect(stock.decreaseTwice('p1')).resolves.toBe(98);
      expect(backend.count('acquire')).toBe(1);
    });

    it('a key function returning several keys locks them all in sorted order', async () => {
      const { orders } = setUp();
      await expect(orders.reserve({ items: ['b', 'a'] })).resolves.toBe('item:b');
      expect(backend.calls.map((call) => `${call.op}:${call.key}`)).toEqual([
        'acquire:item:a',
        'acquire:item:b',
        'release:item:b',
        'release:item:a',
      ]);
    });

    it('try-once by default: a second caller is refused while the first holds the key', async () => {
      const { orders } = setUp();
      const other = new LockManager({ backends: { memory: new RecordingBackend(backend.inner.store) } });
      await other.withLock('item:x', {}, async () => {
        await expect(orders.reserve({ items: ['x'] })).rejects.toBeInstanceOf(LockNotAcquiredError);
      });
      await other.close();
    });

    it("onLocked: 'skip' resolves to undefined without running the body, and emits skipped", async () => {
      const { jobs } = setUp();
      const skipped: string[] = [];
      manager.on('skipped', (event) => skipped.push(`${event.key}:${event.reason}`));
      const other = new LockManager({ backends: { memory: new RecordingBackend(backend.inner.store) } });
      await other.withLock('job:mon', {}, async () => {
        await expect(jobs.nightly('mon')).resolves.toBeUndefined();
      });
      await other.close();
      expect(jobs.runs).toBe(0);
      expect(skipped).toEqual(['job:mon:held']);
    });

    it('holdAtLeastMs keeps a finished job locked, so a late replica skips it', async () => {
      const { jobs } = setUp();
      await expect(jobs.nightly('tue')).resolves.toBe('ran tue');
      // Same process, right after: still held in the store for the rest of the 300 ms.
      await expect(jobs.nightly('tue')).resolves.toBeUndefined();
      expect(jobs.runs).toBe(1);
      await sleep(400);
      await expect(jobs.nightly('tue')).resolves.toBe('ran tue');
      expect(jobs.runs).toBe(2);
    });

    it('labels its locks Class.method and names its key template in events', async () => {
      const { stock } = setUp();
      const acquired: string[] = [];
      manager.on('acquired', (event) => acquired.push(`${event.label} ${event.keyTemplate} ${event.key}`));
      await stock.decrease('p9', 1);
      expect(acquired).toEqual(['Stock.decrease stock:{0} stock:p9']);
    });

    it('records its options as metadata', () => {
      const { StockClass } = setUp();
      const prototype = (StockClass as { prototype: object }).prototype;
      expect(getDistributedLockMetadata(prototype, 'decrease')).toMatchObject({
        key: 'stock:{0}',
        retry: { waitMs: 2_000 },
        methodName: 'decrease',
      });
      expect(getDistributedLockMetadata(StockClass, 'decrease')?.key).toBe('stock:{0}');
      expect(getDistributedLockMetadata(prototype, 'count')).toBeUndefined();
    });

    it('bad call-time keys fail with InvalidLockKeyError before any store call', async () => {
      const { stock } = setUp();
      await expect(stock.decrease(undefined as unknown as string, 1)).rejects.toBeInstanceOf(
        InvalidLockKeyError,
      );
      await expect(stock.decrease({} as unknown as string, 1)).rejects.toBeInstanceOf(InvalidLockKeyError);
      await expect(stock.decrease(null as unknown as string, 1)).rejects.toBeInstanceOf(InvalidLockKeyError);
      expect(backend.calls).toEqual([]);
    });

    it('a method that is not async is refused at decoration time, before its body can ever run', () => {
      const services = setUp();
      let ran = false;
      expect(() => services.decorateSyncMethod(() => (ran = true))).toThrow(InvalidLockOptionsError);
      expect(() => services.decorateSyncMethod(() => (ran = true))).toThrow(/must be declared async/);
      expect(ran).toBe(false);
    });

    it("a template with '${' (a template-literal slip in plain quotes) is refused at decoration time", () => {
      const services = setUp();
      expect(() => services.decorateDollarTemplate()).toThrow(InvalidLockKeyError);
    });

    it('refuses getters, malformed templates and unknown backends at decoration time', () => {
      const services = setUp();
      expect(() => services.decorateGetter()).toThrow(TypeError);
      expect(() => services.decorateBadTemplate()).toThrow(InvalidLockKeyError);
      expect(() => services.decorateUnknownBackend(manager)).toThrow(InvalidLockOptionsError);
    });

    it('says clearly when no manager is set', async () => {
      const { stock } = setUp();
      setDefaultLockManager(undefined);
      await expect(stock.decrease('p1', 1)).rejects.toThrow(/setDefaultLockManager/);
    });

    it('exposes the lock to the method through currentLock()', async () => {
      const { orders } = setUp();
      await orders.reserve({ items: ['z'] });
      expect(currentLock()).toBeUndefined();
    });
  });
}

/** A deliberately racy read-modify-write, so a missing lock shows up as a wrong count. */
export async function racyDecrease(current: { count: number }, quantity: number): Promise<number> {
  const read = current.count;
  await sleep(1);
  current.count = read - quantity;
  return current.count;
}
