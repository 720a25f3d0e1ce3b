import { createLockDataSource } from '@dlock/mysql';
import { Redis } from 'ioredis';
import { createConnection } from 'mysql2/promise';
import { DataSource } from 'typeorm';
import type { AppConfig } from '../config/app-config.js';
import { Order } from '../orders/order-entity.js';
import { RaceStock } from '../race/race-stock-entity.js';
import { createAppMigrations } from '../schema/app-migrations.js';
import { Stock } from '../stock/stock-entity.js';

/** Which store could not be reached at startup, with how to start it. */
export class StoreUnreachableError extends Error {
  override readonly name = 'StoreUnreachableError';
  readonly store: 'redis' | 'mysql';
  constructor(store: 'redis' | 'mysql', url: string, cause: unknown) {
    super(
      `${store === 'redis' ? 'Redis' : 'MySQL/MariaDB'} is not reachable at ${redactUrl(url)}: ${describe(cause)}`,
      {
        cause,
      },
    );
    this.store = store;
  }
}

/**
 * Connect the app's Redis client. Commands fail fast while Redis is down (no offline queue), so a
 * request gets a 503 at once instead of hanging until a reconnect.
 *
 * @example
 * const redis = await connectRedis('redis://127.0.0.1:6379');
 */
export async function connectRedis(url: string): Promise<Redis> {
  const redis = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    // Reconnect forever in the background (Redis may come back), but not in a tight loop.
    retryStrategy: (attempt) => Math.min(attempt * 100, 2_000),
  });
  // Without a listener, ioredis reports connection errors as unhandled 'error' events. The last one
  // says more than connect()'s own rejection ("Connection is closed").
  let lastError: unknown;
  redis.on('error', (error) => {
    lastError = error;
  });
  try {
    await redis.connect();
    return redis;
  } catch (error) {
    redis.disconnect();
    throw new StoreUnreachableError('redis', url, lastError ?? error);
  }
}

/** The entities of this app, for DataSources and for tests that seed or inspect tables. */
const APP_ENTITIES = [Stock, Order, RaceStock];

/**
 * The app's DataSource: entities, transactions, its own pool. Tables are prefixed with
 * `config.tablePrefix`; their schema comes from the app's migrations (run by `createAppContext`),
 * never from `synchronize`. A missing database is created first.
 *
 * @example
 * const dataSource = await connectAppDataSource(loadAppConfig());
 */
export async function connectAppDataSource(
  config: Pick<AppConfig, 'mysqlUrl' | 'tablePrefix' | 'appPoolSize'>,
): Promise<DataSource> {
  const options = {
    type: 'mysql',
    url: config.mysqlUrl,
    entities: APP_ENTITIES,
    entityPrefix: config.tablePrefix,
    synchronize: false,
    migrations: createAppMigrations(config.tablePrefix),
    migrationsTableName: `${config.tablePrefix}migrations`,
    poolSize: config.appPoolSize,
    connectTimeout: 2_000,
  } as const;
  try {
    return await initialize(new DataSource(options), config.mysqlUrl);
  } catch (error) {
    if (!(error instanceof StoreUnreachableError && isUnknownDatabase(error.cause))) throw error;
    await createDatabase(config.mysqlUrl);
    return initialize(new DataSource(options), config.mysqlUrl);
  }
}

/** `CREATE DATABASE IF NOT EXISTS` for the database named in `url`, over a connection without one. */
async function createDatabase(url: string): Promise<void> {
  const parsed = new URL(url);
  const database = decodeURIComponent(parsed.pathname.slice(1));
  if (!/^[A-Za-z0-9_$]{1,64}$/.test(database)) {
    throw new StoreUnreachableError('mysql', url, new Error(`database "${database}" does not exist`));
  }
  parsed.pathname = '/';
  let connection: Awaited<ReturnType<typeof createConnection>> | undefined;
  try {
    connection = await createConnection({ uri: parsed.toString(), connectTimeout: 2_000 });
    await connection.query(`CREATE DATABASE IF NOT EXISTS \`${database}\``);
  } catch (error) {
    throw new StoreUnreachableError('mysql', url, error);
  } finally {
    await connection?.end().catch(() => {});
  }
}

function isUnknownDatabase(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'ER_BAD_DB_ERROR';
}

/**
 * A second DataSource, used only by the MySQL lock backend. A held `GET_LOCK` pins its connection
 * for the whole critical section, and a waiting one blocks a connection inside MySQL; on a pool of
 * their own, lock connections can never starve the transactions they protect (see README).
 *
 * @example
 * const lockDataSource = await connectLockDataSource(loadAppConfig());
 */
export async function connectLockDataSource(
  config: Pick<AppConfig, 'mysqlUrl' | 'lockPoolSize'>,
): Promise<DataSource> {
  try {
    // No entities, no synchronize: this pool only runs GET_LOCK / RELEASE_LOCK.
    return await createLockDataSource({
      url: config.mysqlUrl,
      poolSize: config.lockPoolSize,
      connectTimeoutMs: 2_000,
    });
  } catch (error) {
    throw new StoreUnreachableError('mysql', config.mysqlUrl, error);
  }
}

async function initialize(dataSource: DataSource, url: string): Promise<DataSource> {
  try {
    return await dataSource.initialize();
  } catch (error) {
    if (dataSource.isInitialized) await dataSource.destroy().catch(() => {});
    throw new StoreUnreachableError('mysql', url, error);
  }
}

function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}

function describe(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return describe(error.errors[0]);
  if (error instanceof Error) return error.message || (error as { code?: string }).code || error.name;
  return String(error);
}
