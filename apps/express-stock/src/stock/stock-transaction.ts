import { setTimeout as sleep } from 'node:timers/promises';
import type { DataSource, EntityManager } from 'typeorm';
import { Stock } from './stock-entity.js';
import { InsufficientStockError, ProductNotFoundError } from './stock-errors.js';

/** The outcome of one decrease: what the transaction read and what it wrote. */
export interface StockChange {
  readonly productId: string;
  /** The quantity this transaction read. Under a correct lock it is the previous holder's committed write. */
  readonly previousQuantity: number;
  readonly quantity: number;
}

export interface StockDecreaseRequest<T> {
  readonly productId: string;
  readonly quantity: number;
  /** Simulated work between the read and the write (a pricing call, a fraud check...). */
  readonly workMs: number;
  /** More writes that must commit atomically with the stock change (e.g. inserting the order). */
  readonly alsoWrite?: (manager: EntityManager, change: StockChange) => Promise<T>;
}

/**
 * The critical section: ONE transaction that reads the stock, checks it, and writes the new value.
 *
 * Deliberately a plain read-modify-write (no `SELECT ... FOR UPDATE`, no `quantity = quantity - ?`),
 * the way most code is first written: it is only correct while a lock keeps every other server out
 * from the read to the commit. The caller holds that lock around this whole function, so the
 * commit is done before the unlock.
 *
 * @example
 * const change = await decreaseStockInTransaction(dataSource, { productId: 'p-1', quantity: 1, workMs: 0 });
 */
export async function decreaseStockInTransaction<T = undefined>(
  dataSource: DataSource,
  request: StockDecreaseRequest<T>,
): Promise<{ change: StockChange; extra: T | undefined }> {
  const { productId, quantity } = request;
  return dataSource.transaction(async (manager) => {
    const stock = await manager.findOne(Stock, { where: { productId } });
    if (!stock) throw new ProductNotFoundError(productId);
    if (stock.quantity < quantity) throw new InsufficientStockError(productId, stock.quantity, quantity);
    if (request.workMs > 0) await sleep(request.workMs);
    const change: StockChange = {
      productId,
      previousQuantity: stock.quantity,
      quantity: stock.quantity - quantity,
    };
    await manager.update(Stock, { productId }, { quantity: change.quantity });
    const extra = request.alsoWrite ? await request.alsoWrite(manager, change) : undefined;
    return { change, extra };
  });
}
