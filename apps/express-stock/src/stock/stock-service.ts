import { DistributedLock } from '@dlock/core';
import type { DataSource } from 'typeorm';
import { stockLockWaitMs } from '../config/app-config.js';
import type { CriticalSections } from '../locking/critical-sections.js';
import { Order } from '../orders/order-entity.js';
import { Stock } from './stock-entity.js';
import { decreaseStockInTransaction, type StockChange, setStockInTransaction } from './stock-transaction.js';

/**
 * The one lock of a product's stock, shared by EVERY method that writes it (decrease, order, set).
 * Waiting (`retry`): concurrent writers of one product queue up. `waitMs` is fixed when the class
 * is defined, like every decorator option; configured by `STOCK_LOCK_WAIT_MS`.
 */
const STOCK_LOCK = { key: 'stock:{0}', retry: { waitMs: stockLockWaitMs() } } as const;

export interface StockServiceOptions {
  /** Simulated work inside the critical section, in ms. */
  readonly workMs: number;
  /** Where every transaction under a lock runs, so the shutdown can stop them before releasing locks. */
  readonly criticalSections: CriticalSections;
}

/** A decrease made for an order: the stock change and the order row, committed together. */
export interface OrderReservation {
  readonly change: StockChange;
  readonly order: Order;
}

/**
 * Stock of products. Every write goes through a method that holds the `stock:<productId>` lock
 * around one transaction, so two servers can never interleave their read-modify-write.
 *
 * @example
 * const service = new StockService(dataSource, { workMs: 0, criticalSections: new CriticalSections() });
 * await service.decrease('p-1', 2); // { productId: 'p-1', previousQuantity: 10, quantity: 8 }
 */
export class StockService {
  readonly #dataSource: DataSource;
  readonly #workMs: number;
  readonly #sections: CriticalSections;

  constructor(dataSource: DataSource, options: StockServiceOptions) {
    this.#dataSource = dataSource;
    this.#workMs = options.workMs;
    this.#sections = options.criticalSections;
  }

  /**
   * Waiting lock (`retry`), so the default route sends it to the pub/sub backend: concurrent buyers
   * of one product queue up instead of failing. The lock wraps the whole transaction: the decorator
   * releases only after this method's promise settles, i.e. after COMMIT.
   */
  @DistributedLock(STOCK_LOCK)
  async decrease(productId: string, quantity: number): Promise<StockChange> {
    const { change } = await this.#sections.run((signal) =>
      decreaseStockInTransaction(this.#dataSource, { productId, quantity, workMs: this.#workMs, signal }),
    );
    return change;
  }

  /** Same lock as {@link decrease}: an order's stock change and its order row commit in one transaction. */
  @DistributedLock(STOCK_LOCK)
  async reserveForOrder(productId: string, quantity: number, userId: string): Promise<OrderReservation> {
    const { change, extra } = await this.#sections.run((signal) =>
      decreaseStockInTransaction(this.#dataSource, {
        productId,
        quantity,
        workMs: this.#workMs,
        signal,
        alsoWrite: (manager) => manager.save(manager.create(Order, { userId, productId, quantity })),
      }),
    );
    return { change, order: extra! };
  }

  async find(productId: string): Promise<Stock | null> {
    return this.#dataSource.getRepository(Stock).findOne({ where: { productId } });
  }

  /**
   * Set (or create) a product's stock. An absolute write still takes the stock lock: without it, a
   * decrease that read before this write would commit its stale result after it, and the new
   * quantity would be lost.
   */
  @DistributedLock(STOCK_LOCK)
  async set(productId: string, quantity: number): Promise<{ productId: string; quantity: number }> {
    await this.#sections.run((signal) =>
      setStockInTransaction(this.#dataSource, {
        row: { entity: Stock, where: { productId } },
        quantity,
        signal,
      }),
    );
    return { productId, quantity };
  }
}
