import { DistributedLock, LockManager, MemoryLockBackend } from '@dlock/core';
import { monotonicMs } from './monotonic-clock.js';
import { percentile, rotate } from './sample-stats.js';

/** Cost per call of the same body, plain, through `withLock`, and decorated. */
export interface DecoratorOverhead {
  readonly plainNs: number;
  readonly withLockNs: number;
  readonly decoratedNs: number;
  readonly callsPerVariant: number;
}

export interface DecoratorPlan {
  readonly rounds: number;
  readonly callsPerRound: number;
}

/**
 * Decorator overhead with `MemoryLockBackend`, so no store round trip hides it: a decorated method
 * against the same body undecorated, and against `manager.withLock` (the difference is the
 * decorator's own work: key template, option lookup). Median of per-round means, variants in a
 * rotating order.
 *
 * @example
 * const overhead = await runDecoratorOverhead({ rounds: 5, callsPerRound: 20_000 });
 */
export async function runDecoratorOverhead(plan: DecoratorPlan): Promise<DecoratorOverhead> {
  const manager = new LockManager({ backends: { memory: new MemoryLockBackend() } });
  const lockOptions = { retry: { waitMs: 1_000 } } as const;

  class StockService {
    stock = 0;

    async plain(itemId: number): Promise<number> {
      this.stock += itemId;
      return this.stock;
    }

    @DistributedLock({ key: 'bench:decorator:{0}', manager, ...lockOptions })
    async decorated(itemId: number): Promise<number> {
      this.stock += itemId;
      return this.stock;
    }
  }
  const service = new StockService();
  const variants: Record<
    keyof Omit<DecoratorOverhead, 'callsPerVariant'>,
    (itemId: number) => Promise<number>
  > = {
    plainNs: (itemId) => service.plain(itemId),
    withLockNs: (itemId) =>
      manager.withLock(`bench:decorator:${itemId}`, lockOptions, async () => {
        service.stock += itemId;
        return service.stock;
      }),
    decoratedNs: (itemId) => service.decorated(itemId),
  };
  const names = Object.keys(variants) as (keyof typeof variants)[];
  const perRound = new Map<string, number[]>(names.map((name) => [name, []]));
  try {
    for (const name of names) for (let call = 0; call < 2_000; call++) await variants[name](1);
    for (let round = 0; round < plan.rounds; round++) {
      for (const name of rotate(names, round)) {
        const variant = variants[name];
        const startedAt = monotonicMs();
        for (let call = 0; call < plan.callsPerRound; call++) await variant(1);
        perRound.get(name)!.push(((monotonicMs() - startedAt) / plan.callsPerRound) * 1e6);
      }
    }
  } finally {
    await manager.close();
  }
  return {
    plainNs: percentile(perRound.get('plainNs')!, 50),
    withLockNs: percentile(perRound.get('withLockNs')!, 50),
    decoratedNs: percentile(perRound.get('decoratedNs')!, 50),
    callsPerVariant: plan.rounds * plan.callsPerRound,
  };
}
