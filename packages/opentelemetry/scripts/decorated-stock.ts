// The subject of overhead.mjs: one decorated method, as an app writes it (TC39 decorator).
import { DistributedLock, type LockManager } from '@dlock/core';

/** A `StockService` whose `decrease` takes `stock:{0}` on `manager`. */
export function decoratedStock(manager: LockManager): { decrease(productId: string): Promise<number> } {
  class StockService {
    #stock = 0;
    @DistributedLock({ key: 'stock:{0}', manager })
    async decrease(_productId: string): Promise<number> {
      return --this.#stock;
    }
  }
  return new StockService();
}
