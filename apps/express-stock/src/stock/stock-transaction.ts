import { setTimeout as sleep } from 'node:timers/promises';
import { currentLock } from '@dlock/core';
import type { DataSource, EntityManager, EntityTarget } from 'typeorm';
import { Stock } from './stock-entity.js';
import { InsufficientStockError, ProductNotFoundError } from './stock-errors.js';

/** The outcome of one decrease: what the transaction read and what it wrote. */
export interface StockChange {
  readonly productId: string;
  /** The quantity this transaction read. Under a correct lock it is the previous holder's committed write. */
  readonly previousQuantity: number;
  readonly quantity: number;
}

/** A table with a `quantity` column: the app's `stock`, or the demo's `race_stock`. */
export interface StockRowLocation {
  readonly entity: EntityTarget<{ quantity: number }>;
  /** The row's primary key, e.g. `{ productId }` or `{ strategy, productId }`. */
  readonly where: Readonly<Record<string, string>>;
}

export interface StockDecreaseRequest<T> {
  readonly productId: string;
  readonly quantity: number;
  /** Simulated work between the read and the write (a pricing call, a fraud check...). */
  readonly workMs: number;
  /**
   * Aborted when this work must not commit (the shutdown's grace period is over). Checked before
   * each write and right before COMMIT; an abort rolls the transaction back.
   */
  readonly signal: AbortSignal;
  /** The row to change. Default: the app's `stock` row of `productId`. */
  readonly row?: StockRowLocation;
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
 * It stops and rolls back, instead of committing, once `request.signal` aborts (shutdown) or the
 * lock it runs under is lost (`currentLock().signal`): a commit after either could land after
 * another server already read the old value.
 *
 * @example
 * const change = await decreaseStockInTransaction(dataSource, { productId: 'p-1', quantity: 1, workMs: 0, signal });
 */
export async function decreaseStockInTransaction<T = undefined>(
  dataSource: DataSource,
  request: StockDecreaseRequest<T>,
): Promise<{ change: StockChange; extra: T | undefined }> {
  const { productId, quantity } = request;
  const row = request.row ?? { entity: Stock, where: { productId } };
  const stop = stopSignals(request.signal);
  stop.check();
  return dataSource.transaction(async (manager) => {
    const stock = await manager.findOne(row.entity, { where: row.where });
    if (!stock) throw new ProductNotFoundError(productId);
    if (stock.quantity < quantity) throw new InsufficientStockError(productId, stock.quantity, quantity);
    if (request.workMs > 0) await stop.sleep(request.workMs);
    const change: StockChange = {
      productId,
      previousQuantity: stock.quantity,
      quantity: stock.quantity - quantity,
    };
    stop.check();
    await manager.update(row.entity, row.where, { quantity: change.quantity });
    const extra = request.alsoWrite ? await request.alsoWrite(manager, change) : undefined;
    // The last point before COMMIT. A stop after it waits for this COMMIT: the shutdown releases
    // no lock before every critical section has settled.
    stop.check();
    return { change, extra };
  });
}

/**
 * Set a stock row to an absolute quantity, creating it if missing, in one transaction that honours
 * the same stop signals. Absolute or not, it is a write to a locked resource: the caller holds the
 * same lock as the decreases, or a decrease that read before this write would overwrite it.
 *
 * @example
 * await setStockInTransaction(dataSource, { row: { entity: Stock, where: { productId: 'p-1' } }, quantity: 10, signal });
 */
export async function setStockInTransaction(
  dataSource: DataSource,
  request: { readonly row: StockRowLocation; readonly quantity: number; readonly signal: AbortSignal },
): Promise<void> {
  const stop = stopSignals(request.signal);
  stop.check();
  await dataSource.transaction(async (manager) => {
    await manager.upsert(
      request.row.entity,
      { ...request.row.where, quantity: request.quantity },
      {
        conflictPaths: Object.keys(request.row.where),
      },
    );
    stop.check();
  });
}

/** The shutdown signal plus the signal of the lock this code runs under, if any. */
function stopSignals(shutdown: AbortSignal): { check(): void; sleep(ms: number): Promise<void> } {
  const signals = [shutdown, currentLock()?.signal].filter((signal) => signal !== undefined);
  const check = () => {
    for (const signal of signals) signal.throwIfAborted();
  };
  return {
    check,
    // Not AbortSignal.any: the shutdown signal lives as long as the process and would collect one
    // dependent signal per call.
    sleep: async (ms) => {
      const wake = new AbortController();
      const onAbort = () => wake.abort();
      for (const signal of signals) signal.addEventListener('abort', onAbort, { once: true });
      try {
        await sleep(ms, undefined, { signal: wake.signal });
      } catch (error) {
        check(); // rethrow the reason (shutdown or lock loss), not a generic AbortError
        throw error;
      } finally {
        for (const signal of signals) signal.removeEventListener('abort', onAbort);
      }
    },
  };
}
