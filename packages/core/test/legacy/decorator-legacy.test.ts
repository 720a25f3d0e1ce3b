// Compiled with experimentalDecorators (see ./tsconfig.json), as TypeORM and NestJS apps do.
import 'reflect-metadata';
import { describe, expect, it } from 'vitest';
import { currentLock, DistributedLock, getDistributedLockMetadata, LockManager } from '../../src/index.js';
import {
  type DecoratedServices,
  describeDecoratorMode,
  racyDecrease,
} from '../support/decorator-scenarios.js';

function createServices(): DecoratedServices {
  class Stock {
    count = 100;
    @DistributedLock({ key: 'stock:{0}', retry: { waitMs: 2_000 } })
    async decrease(_productId: string, quantity: number): Promise<number> {
      return racyDecrease(this, quantity);
    }
    @DistributedLock({ key: 'stock:{0}' })
    async decreaseTwice(productId: string): Promise<number> {
      await this.decrease(productId, 1);
      return this.decrease(productId, 1);
    }
  }
  class Orders {
    @DistributedLock({ key: (order: { items: string[] }) => order.items.map((item) => `item:${item}`) })
    async reserve(_order: { items: string[] }): Promise<string | undefined> {
      return currentLock()?.key;
    }
  }
  class Jobs {
    runs = 0;
    @DistributedLock({ key: 'job:{0}', onLocked: 'skip', holdAtLeastMs: 300 })
    async nightly(day: string): Promise<string | undefined> {
      this.runs++;
      return `ran ${day}`;
    }
  }
  return {
    stock: new Stock(),
    orders: new Orders(),
    jobs: new Jobs(),
    StockClass: Stock,
    decorateSyncMethod: (onRun: () => void) => {
      class Sync {
        // @ts-expect-error a method that does not return a Promise cannot be decorated
        @DistributedLock({ key: 'sync' })
        run(): number {
          onRun();
          return 1;
        }
      }
      // Reached only if decoration wrongly succeeded: then the body would run.
      void Promise.resolve(new Sync().run()).catch(() => {});
      return Sync;
    },
    decorateGetter: () => {
      class Getter {
        // @ts-expect-error getters cannot be decorated
        @DistributedLock({ key: 'g' })
        get value(): Promise<number> {
          return Promise.resolve(1);
        }
      }
      return Getter;
    },
    decorateDollarTemplate: () => {
      class Dollar {
        // biome-ignore lint/suspicious/noTemplateCurlyInString: the slip under test
        @DistributedLock({ key: 'order:${0}' })
        async run(_orderId: string): Promise<void> {}
      }
      return Dollar;
    },
    decorateBadTemplate: () => {
      class BadTemplate {
        @DistributedLock({ key: 'stock:{id}' })
        async run(): Promise<void> {}
      }
      return BadTemplate;
    },
    decorateUnknownBackend: (manager: LockManager) => {
      class Unknown {
        @DistributedLock({ key: 'k', backend: 'nope', manager })
        async run(): Promise<void> {}
      }
      return Unknown;
    },
  };
}

describeDecoratorMode('legacy experimentalDecorators', createServices);

describe('@DistributedLock (legacy) and other decorators', () => {
  it('keeps metadata other decorators recorded on the property', () => {
    class Tagged {
      @DistributedLock({ key: 'k' })
      @Reflect.metadata('role', 'admin')
      async run(): Promise<void> {}
    }
    expect(Reflect.getMetadata('role', Tagged.prototype, 'run')).toBe('admin');
    expect(getDistributedLockMetadata(Tagged.prototype, 'run')?.key).toBe('k');
  });

  it('refuses a field at class definition time', () => {
    expect(() => {
      class Field {
        // @ts-expect-error fields cannot be decorated
        @DistributedLock({ key: 'f' })
        value = 1;
      }
      return new Field();
    }).toThrow(TypeError);
  });
});
