import { describe, expectTypeOf, it } from 'vitest';
import { DistributedLock, type LockKeyFunction } from '../src/index.js';

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
});
