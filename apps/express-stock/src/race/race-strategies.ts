import type { LockManager } from '@dlock/core';
import type { DataSource } from 'typeorm';
import type { CriticalSections } from '../locking/critical-sections.js';
import {
  decreaseStockInTransaction,
  type StockChange,
  setStockInTransaction,
} from '../stock/stock-transaction.js';
import { LocalMutex } from './local-mutex.js';
import { RaceStock } from './race-stock-entity.js';

/** The demo's ways of protecting the stock decrease. */
export const RACE_STRATEGIES = ['none', 'local', 'mysql', 'spin', 'pubsub'] as const;
export type RaceStrategy = (typeof RACE_STRATEGIES)[number];

export function isRaceStrategy(value: unknown): value is RaceStrategy {
  return typeof value === 'string' && (RACE_STRATEGIES as readonly string[]).includes(value);
}

export interface RaceStockServiceOptions {
  readonly dataSource: DataSource;
  readonly manager: LockManager;
  readonly criticalSections: CriticalSections;
  /** How long a decrease waits for the lock. */
  readonly waitMs: number;
  /** Simulated work between the read and the write, as in the app's own decrease. */
  readonly workMs: number;
}

/**
 * DEMO ONLY: the same read-modify-write as `StockService.decrease`, under each strategy, on the
 * demo's own `race_stock` rows:
 *
 * - `none`: no lock at all.
 * - `local`: {@link LocalMutex}; correct inside one process, wrong across two.
 * - `mysql` / `spin` / `pubsub`: a dlock on `race:<strategy>:<product>`, which the app's route
 *   sends to that store. The strategy is part of both the key and the row, so a row is only ever
 *   locked on one store, and racing never touches the app's `stock` rows and their `stock:` locks.
 *
 * @example
 * const race = new RaceStockService({ dataSource, manager, criticalSections, waitMs: 10_000, workMs: 5 });
 * await race.set('local', 'p-1', 100);
 * await race.decrease('local', 'p-1', 1);
 */
export class RaceStockService {
  readonly #options: RaceStockServiceOptions;
  readonly #localMutex = new LocalMutex();

  constructor(options: RaceStockServiceOptions) {
    this.#options = options;
  }

  decrease(strategy: RaceStrategy, productId: string, quantity: number): Promise<StockChange> {
    const { dataSource, criticalSections, workMs } = this.#options;
    return this.#underStrategy(strategy, productId, async () => {
      const { change } = await criticalSections.run((signal) =>
        decreaseStockInTransaction(dataSource, {
          productId,
          quantity,
          workMs,
          signal,
          row: { entity: RaceStock, where: { strategy, productId } },
        }),
      );
      return change;
    });
  }

  /** Seed a race row, under the same lock as its decreases. */
  set(strategy: RaceStrategy, productId: string, quantity: number): Promise<RaceStock> {
    const { dataSource, criticalSections } = this.#options;
    return this.#underStrategy(strategy, productId, async () => {
      await criticalSections.run((signal) =>
        setStockInTransaction(dataSource, {
          row: { entity: RaceStock, where: { strategy, productId } },
          quantity,
          signal,
        }),
      );
      return Object.assign(new RaceStock(), { strategy, productId, quantity });
    });
  }

  find(strategy: RaceStrategy, productId: string): Promise<RaceStock | null> {
    return this.#options.dataSource.getRepository(RaceStock).findOne({ where: { strategy, productId } });
  }

  #underStrategy<T>(strategy: RaceStrategy, productId: string, work: () => Promise<T>): Promise<T> {
    const key = `race:${strategy}:${productId}`;
    switch (strategy) {
      case 'none':
        return work();
      case 'local':
        return this.#localMutex.run(key, work);
      case 'mysql':
      case 'spin':
      case 'pubsub':
        // No `backend:` here: the manager's route sends race:<strategy>:* to that strategy's store.
        return this.#options.manager.withLock(key, { retry: { waitMs: this.#options.waitMs } }, work);
    }
  }
}
