import 'reflect-metadata';
import {
  getDistributedLockMetadata,
  LockManager,
  type LockRouteRequest,
  MemoryLockBackend,
} from '@dlock/core';
import { describe, expect, it } from 'vitest';
import { lockStoreFor, routeByKeyNamespace } from '../src/locking/lock-backends.js';
import { OrderService } from '../src/orders/order-service.js';
import { PaymentService } from '../src/payments/payment-service.js';
import { StockService } from '../src/stock/stock-service.js';

const request = (keys: string[], waitMs = 0): LockRouteRequest => ({ keys, waitMs, leaseMs: 30_000 });

describe('one store per key namespace', () => {
  it('sends a key to the same store whatever the call options', () => {
    for (const waitMs of [0, 10_000]) {
      expect(routeByKeyNamespace(request(['stock:p-1'], waitMs))).toBe('pubsub');
      expect(routeByKeyNamespace(request(['order:u-1'], waitMs))).toBe('spin');
      expect(routeByKeyNamespace(request(['psp:acme'], waitMs))).toBe('pubsub');
      expect(routeByKeyNamespace(request(['race:mysql:p-1'], waitMs))).toBe('mysql');
      expect(routeByKeyNamespace(request(['race:spin:p-1'], waitMs))).toBe('spin');
      expect(routeByKeyNamespace(request(['race:pubsub:p-1'], waitMs))).toBe('pubsub');
    }
  });

  it('refuses a key without a store, and one call spanning two stores', () => {
    expect(() => lockStoreFor('cart:u-1')).toThrow(/no store for lock key "cart:u-1"/);
    expect(() => lockStoreFor('race:none:p-1')).toThrow(/no store/);
    expect(() => routeByKeyNamespace(request(['order:u-1', 'stock:p-1']))).toThrow(/two stores/);
  });

  it("every decorated method's key lands on the store of its namespace", () => {
    const methods = [
      [StockService.prototype, 'decrease', 'pubsub'],
      [StockService.prototype, 'reserveForOrder', 'pubsub'],
      [StockService.prototype, 'set', 'pubsub'],
      [OrderService.prototype, 'place', 'spin'],
      [PaymentService.prototype, 'authorise', 'pubsub'],
    ] as const;
    for (const [prototype, name, store] of methods) {
      const metadata = getDistributedLockMetadata(prototype, name);
      expect(metadata, name).toBeDefined();
      // Nobody names a backend at a call site: the route, and only the route, picks the store.
      expect(metadata!.backend, name).toBeUndefined();
      const sampleKey = String(metadata!.key).replace(/\{\d+\}/g, 'x');
      expect(lockStoreFor(sampleKey), name).toBe(store);
    }
  });

  it('a manager with this route takes "stock:" keys on pub/sub even for a try-once call', async () => {
    const backends = {
      spin: new MemoryLockBackend(),
      pubsub: new MemoryLockBackend(),
      mysql: new MemoryLockBackend(),
    };
    const manager = new LockManager({ backends, route: routeByKeyNamespace });
    const taken: string[] = [];
    manager.on('acquired', (event) => taken.push(`${event.key}@${event.backend}`));
    await manager.withLock('stock:p-1', {}, async () => {});
    await manager.withLock('stock:p-1', { retry: { waitMs: 100 } }, async () => {});
    expect(taken).toEqual(['stock:p-1@pubsub', 'stock:p-1@pubsub']);
    await manager.close();
  });
});
