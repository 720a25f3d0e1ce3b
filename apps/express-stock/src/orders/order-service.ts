import { DistributedLock } from '@dlock/core';
import type { OrderReservation, StockService } from '../stock/stock-service.js';

/**
 * Places orders. `place` holds `order:<userId>` try-once: a double-clicked "Buy" button from the
 * same user fails fast with `LockNotAcquiredError` (HTTP 409) instead of queueing a duplicate order.
 *
 * @example
 * const orders = new OrderService(stockService);
 * await orders.place('user-7', 'p-1', 1);
 */
export class OrderService {
  readonly #stock: StockService;

  constructor(stock: StockService) {
    this.#stock = stock;
  }

  /**
   * No `retry`, so the default route sends it to the Redis spin backend: one SET NX, no waiting.
   * Inside, the stock lock (`stock:<productId>`, waiting) is taken second; every caller takes
   * order-then-stock, so the two locks cannot deadlock.
   */
  @DistributedLock({ key: 'order:{0}' })
  async place(userId: string, productId: string, quantity: number): Promise<OrderReservation> {
    return this.#stock.reserveForOrder(productId, quantity, userId);
  }
}
