import { describe, expectTypeOf, it } from 'vitest';
import { DistributedLock, type LockKeyFunction, LockManager, MemoryLockBackend } from '../src/index.js';

describe('@DistributedLock types (TC39)', () => {
  it('accepts a key function whose parameters fit the method', () => {
    class Fits {
      @DistributedLock({ key: (productId: string) => `stock:${productId}` })
      async decrease(productId: string, quantity: number): Promise<number> {
        return productId.length - quantity;
      }
    }
    expectTypeOf(new Fits().decrease).returns.resolves.toBeNumber();
  });

  it('rejects a key function whose parameters do not fit the method', () => {
    class Mismatch {
      // @ts-expect-error the key function takes a number, the method a string
      @DistributedLock({ key: (productId: number) => `stock:${productId}` })
      async decrease(productId: string): Promise<string> {
        return productId;
      }
    }
    class TooMany {
      // @ts-expect-error the key function needs two arguments, the method passes one
      @DistributedLock({ key: (a: string, b: string) => `k:${a}${b}` })
      async run(a: string): Promise<string> {
        return a;
      }
    }
    expectTypeOf<Mismatch>().toBeObject();
    expectTypeOf<TooMany>().toBeObject();
  });

  it('checks template placeholders against the method parameters', () => {
    class Fits {
      @DistributedLock({ key: 'order:{0}:{1.id}:{{literal}}' })
      async place(userId: string, order: { id: string }): Promise<string> {
        return userId + order.id;
      }
    }
    class PastTheEnd {
      // @ts-expect-error {1} names a second argument, the method has one parameter
      @DistributedLock({ key: 'stock:{1}' })
      async decrease(productId: string): Promise<string> {
        return productId;
      }
    }
    class WrongPath {
      // @ts-expect-error {0.idd}: the order argument has no "idd"
      @DistributedLock({ key: 'order:{0.idd}' })
      async place(order: { id: string }): Promise<string> {
        return order.id;
      }
    }
    class DeepPath {
      @DistributedLock({ key: 'cart:{0.user.id}' })
      async checkout(cart: { user: { id: string } | undefined }): Promise<void> {
        void cart;
      }
    }
    expectTypeOf<WrongPath>().toBeObject();
    expectTypeOf<DeepPath>().toBeObject();
    class Rest {
      // Open-ended parameters cannot be checked at compile time; the call-time check remains.
      @DistributedLock({ key: 'k:{3}' })
      async run(...parts: string[]): Promise<string> {
        return parts.join();
      }
    }
    expectTypeOf<Fits>().toBeObject();
    expectTypeOf<PastTheEnd>().toBeObject();
    expectTypeOf<Rest>().toBeObject();
  });

  it('rejects methods that do not return a Promise', () => {
    class Sync {
      // @ts-expect-error only async methods can hold a lock
      @DistributedLock({ key: 'k' })
      run(): number {
        return 1;
      }
    }
    expectTypeOf<Sync>().toBeObject();
  });

  it("onLocked: 'skip' needs a method whose result admits undefined", () => {
    class Skips {
      @DistributedLock({ key: 'job', onLocked: 'skip' })
      async run(): Promise<number | undefined> {
        return 1;
      }
    }
    class Forgets {
      // @ts-expect-error a skipped call resolves to undefined, which Promise<number> does not admit
      @DistributedLock({ key: 'job', onLocked: 'skip' })
      async run(): Promise<number> {
        return 1;
      }
    }
    class Throws {
      @DistributedLock({ key: 'job', onLocked: 'throw' })
      async run(): Promise<number> {
        return 1;
      }
    }
    expectTypeOf(new Skips().run).returns.resolves.toEqualTypeOf<number | undefined>();
    expectTypeOf<Forgets>().toBeObject();
    expectTypeOf<Throws>().toBeObject();
  });

  it('a key function may return several keys', () => {
    expectTypeOf<LockKeyFunction<[string[]]>>().returns.toEqualTypeOf<string | readonly string[]>();
  });

  it('backend names are checked against the manager the call or decorator uses', () => {
    const manager = new LockManager({
      backends: { spin: new MemoryLockBackend(), pubsub: new MemoryLockBackend() },
    });
    expectTypeOf(manager.backendNames).toEqualTypeOf<readonly ('spin' | 'pubsub')[]>();
    void manager.withLock('k', { backend: 'pubsub' }, async () => 1);
    // @ts-expect-error "pubusb" is not one of the manager's backends
    void manager.withLock('k', { backend: 'pubusb' }, async () => 1);
    class Decorated {
      @DistributedLock({ key: 'k', manager, backend: 'spin' })
      async run(): Promise<void> {}
    }
    class Misspelled {
      // @ts-expect-error "pubusb" is not one of the manager's backends
      @DistributedLock({ key: 'k', manager, backend: 'pubusb' })
      async run(): Promise<void> {}
    }
    class DefaultManager {
      // Without a manager (and without augmenting LockBackendNames) any name compiles; it is checked at call time.
      @DistributedLock({ key: 'k', backend: 'anything' })
      async run(): Promise<void> {}
    }
    expectTypeOf<Decorated | Misspelled | DefaultManager>().toBeObject();
  });
});
