import type { LockManager } from '@dlock/core';
import { LocalMutex } from './local-mutex.js';
import type { StockService } from './stock-service.js';
import type { StockChange } from './stock-transaction.js';

/** The demo's ways of protecting the stock decrease. */
export const RACE_STRATEGIES = ['none', 'local', 'mysql', 'spin', 'pubsub'] as const;
export type RaceStrategy = (typeof RACE_STRATEGIES)[number];

export function isRaceStrategy(value: unknown): value is RaceStrategy {
  return typeof value === 'string' && (RACE_STRATEGIES as readonly string[]).includes(value);
}

/**
 * DEMO ONLY: lets one endpoint be raced under each strategy. A real app has just
 * `stockService.decrease()` (what `pubsub` and "no strategy" run).
 *
 * - `none`: no lock at all.
 * - `local`: {@link LocalMutex}; correct inside one process, wrong across two.
 * - `spin` / `mysql`: the same waiting dlock, forced onto that backend with the `backend` option.
 * - `pubsub` or none given: the decorated `StockService.decrease`, routed to pub/sub by the default route.
 *
 * @example
 * const strategies = new StockRaceStrategies({ stock, manager, waitMs: 10_000 });
 * await strategies.decrease('local', 'p-1', 1);
 */
export class StockRaceStrategies {
  readonly #stock: StockService;
  readonly #manager: LockManager;
  readonly #waitMs: number;
  readonly #localMutex = new LocalMutex();

  constructor(options: { stock: StockService; manager: LockManager; waitMs: number }) {
    this.#stock = options.stock;
    this.#manager = options.manager;
    this.#waitMs = options.waitMs;
  }

  decrease(strategy: RaceStrategy | undefined, productId: string, quantity: number): Promise<StockChange> {
    const unlocked = () => this.#stock.decreaseUnlocked(productId, quantity);
    switch (strategy) {
      case 'none':
        return unlocked();
      case 'local':
        return this.#localMutex.run(`stock:${productId}`, unlocked);
      case 'spin':
      case 'mysql':
        return this.#manager.withLock(
          `stock:${productId}`,
          { backend: strategy, retry: { waitMs: this.#waitMs } },
          unlocked,
        );
      case 'pubsub':
      case undefined:
        return this.#stock.decrease(productId, quantity);
    }
  }
}
