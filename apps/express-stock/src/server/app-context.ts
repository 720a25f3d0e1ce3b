import { LockManager, setDefaultLockManager } from '@dlock/core';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import { type AppConfig, stockLockWaitMs } from '../config/app-config.js';
import { CriticalSections } from '../locking/critical-sections.js';
import { type AppLockBackends, createLockBackends, routeByKeyNamespace } from '../locking/lock-backends.js';
import { OrderService } from '../orders/order-service.js';
import { SimulatedPaymentProvider } from '../payments/payment-provider.js';
import { PaymentService } from '../payments/payment-service.js';
import { RaceStockService } from '../race/race-strategies.js';
import { migrateSchema } from '../schema/schema-migration.js';
import { StockService } from '../stock/stock-service.js';
import { connectAppDataSource, connectLockDataSource, connectRedis } from './store-connections.js';

/** Everything a running app holds: clients, the lock manager, services. One per process. */
export interface AppContext {
  readonly config: AppConfig;
  readonly logger: Logger;
  readonly redis: Redis;
  readonly dataSource: DataSource;
  readonly lockDataSource: DataSource;
  readonly backends: AppLockBackends;
  readonly lockManager: LockManager;
  readonly stockService: StockService;
  readonly orderService: OrderService;
  /** Payment authorisations, at most 3 at once across every server (`@DistributedSemaphore`). */
  readonly paymentService: PaymentService;
  /** DEMO ONLY: the race endpoint's rows and strategies. */
  readonly raceStocks: RaceStockService;
  /** Every transaction that runs under a lock; the shutdown stops them before it releases locks. */
  readonly criticalSections: CriticalSections;
  /** Set by the graceful shutdown; lets error responses say "shutting down" rather than "lock lost". */
  readonly lifecycle: { shuttingDown: boolean };
  /**
   * Release every held lock and close every connection. Call only once no critical section runs
   * (`criticalSections.settled()`): a lock released under a running transaction lets another
   * server in before that transaction's COMMIT.
   */
  close(): Promise<void>;
}

/**
 * Connect to Redis and MySQL (creating the database if missing), run the migrations, wire the
 * backends with one store per key namespace and make the manager the default one.
 * Throws `StoreUnreachableError` naming the store that is down, after closing what was opened.
 *
 * @example
 * const context = await createAppContext(loadAppConfig(), logger);
 * const app = createApp(context);
 */
export async function createAppContext(config: AppConfig, logger: Logger): Promise<AppContext> {
  const opened: (() => Promise<unknown>)[] = [];
  const closeOpened = async () => {
    for (const close of opened.reverse()) await close().catch(() => {});
  };
  try {
    const redis = await connectRedis(config.redisUrl);
    // quit() fails while Redis is down; disconnect() then stops the reconnect loop.
    opened.push(() => redis.quit().catch(() => redis.disconnect()));
    const dataSource = await connectAppDataSource(config);
    opened.push(() => dataSource.destroy());
    const lockDataSource = await connectLockDataSource(config);
    opened.push(() => lockDataSource.destroy());

    const backends = createLockBackends({ redis, lockDataSource });
    // One store per key: the route picks it from the key's namespace (order: -> spin, stock: -> pubsub).
    const lockManager = new LockManager({ backends, route: routeByKeyNamespace });
    opened.push(() => lockManager.close());
    setDefaultLockManager(lockManager);
    lockManager.on('contended', (event) =>
      logger.debug({ key: event.key, backend: event.backend }, 'lock contended'),
    );
    lockManager.on('acquired', (event) =>
      logger.debug({ key: event.key, backend: event.backend, waitedMs: event.waitedMs }, 'lock acquired'),
    );
    lockManager.on('lost', (event) => logger.error({ key: event.key, backend: event.backend }, 'lock lost'));
    lockManager.on('timeout', (event) =>
      logger.warn(
        { key: event.key, backend: event.backend, waitedMs: event.waitedMs },
        'lock wait timed out',
      ),
    );

    // The app's own tables, created once under the lock schema:<database>.<prefix> (see schema/).
    if (config.runMigrations)
      await migrateSchema({ dataSource, lockManager, tablePrefix: config.tablePrefix });

    const criticalSections = new CriticalSections();
    const stockService = new StockService(dataSource, { workMs: config.stockWorkMs, criticalSections });
    const orderService = new OrderService(stockService);
    const paymentService = new PaymentService(
      new SimulatedPaymentProvider(redis, {
        name: config.paymentProvider,
        latencyMs: config.paymentProviderMs,
      }),
    );
    const raceStocks = new RaceStockService({
      dataSource,
      manager: lockManager,
      criticalSections,
      waitMs: stockLockWaitMs(),
      workMs: config.stockWorkMs,
    });

    let closing: Promise<void> | undefined;
    const close = () => {
      closing ??= (async () => {
        // First the locks (while their stores are still reachable, so they are released, not left
        // to expire), then the pools and Redis. manager.close() also closes the backends, which
        // ends the pub/sub backend's own subscriber connection. The caller made sure no critical
        // section still runs (see graceful-shutdown.ts).
        // Decorated calls made after this reject with LockBackendError ("manager is closed") -> 503.
        await lockManager.close();
        await closeOpened();
      })();
      return closing;
    };
    return {
      config,
      logger,
      redis,
      dataSource,
      lockDataSource,
      backends,
      lockManager,
      stockService,
      orderService,
      paymentService,
      raceStocks,
      criticalSections,
      lifecycle: { shuttingDown: false },
      close,
    };
  } catch (error) {
    await closeOpened();
    throw error;
  }
}
