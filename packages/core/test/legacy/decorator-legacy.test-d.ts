// Checked by `tsc -p test/legacy` (pnpm typecheck): the same guarantees under experimentalDecorators.
import { DistributedLock } from '../../src/index.js';

export class Fits {
  @DistributedLock({ key: (productId: string) => `stock:${productId}` })
  async decrease(productId: string, quantity: number): Promise<number> {
    return productId.length - quantity;
  }
}

export class Mismatch {
  // @ts-expect-error the key function takes a number, the method a string
  @DistributedLock({ key: (productId: number) => `stock:${productId}` })
  async decrease(productId: string): Promise<string> {
    return productId;
  }
}

export class Sync {
  // @ts-expect-error only async methods can hold a lock
  @DistributedLock({ key: 'k' })
  run(): number {
    return 1;
  }
}

export class PastTheEnd {
  // @ts-expect-error {1} names a second argument, the method has one parameter
  @DistributedLock({ key: 'stock:{1}' })
  async decrease(productId: string): Promise<string> {
    return productId;
  }
}

export class Skips {
  @DistributedLock({ key: 'job', onLocked: 'skip' })
  async run(): Promise<number | undefined> {
    return 1;
  }
}

export class ForgetsUndefined {
  // @ts-expect-error a skipped call resolves to undefined, which Promise<number> does not admit
  @DistributedLock({ key: 'job', onLocked: 'skip' })
  async run(): Promise<number> {
    return 1;
  }
}

export class WrongPath {
  // @ts-expect-error {0.idd}: the order argument has no "idd"
  @DistributedLock({ key: 'order:{0.idd}' })
  async place(order: { id: string }): Promise<string> {
    return order.id;
  }
}
