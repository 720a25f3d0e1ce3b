import { DataSource } from 'typeorm';
import { lockDataSourceStartFailed } from './mysql-backend-error.js';
import { invalid } from './mysql-lock-options.js';

const SUPPORTED_TYPES = new Set(['mysql', 'mariadb']);
const MYSQL2_DEFAULT_POOL_SIZE = 10;

/** Options of {@link createLockDataSource}: a small pool of its own for the lock backend. */
export interface LockDataSourceOptions {
  /** Connection URL, e.g. `mysql://user:password@127.0.0.1:3306/app`. */
  readonly url: string;
  /** Connections in this pool; set the backend's `maxConnections` from it. Default 10. */
  readonly poolSize?: number | undefined;
  /** TypeORM driver type. Both use mysql2 and work against MySQL and MariaDB. Default `"mysql"`. */
  readonly type?: 'mysql' | 'mariadb' | undefined;
  /** TCP connect timeout of each new connection. Default 10000 ms. */
  readonly connectTimeoutMs?: number | undefined;
}

/**
 * Create and initialize a small DataSource for locks only: no entities, no migrations, its own
 * pool. Keeping locks off the application's pool means a burst of lock holders can never take
 * the connections their own transactions need. Destroy it with `dataSource.destroy()` after the
 * backend's `close()`.
 *
 * @throws LockBackendError (backend `"mysql"`, the driver's error as `cause`) when it cannot connect,
 * after closing whatever it had opened. `isRetryable` is true for network failures (reset, refused,
 * timed out) and false when the server refuses (wrong password, unknown database, too many connections).
 *
 * @example
 * const locks = await createLockDataSource({ url: process.env.MYSQL_URL!, poolSize: 10 });
 * const backend = new MySqlNamedLockBackend(locks, { maxConnections: 9 });
 */
export async function createLockDataSource(options: LockDataSourceOptions): Promise<DataSource> {
  const dataSource = new DataSource({
    type: options.type ?? 'mysql',
    url: options.url,
    poolSize: options.poolSize ?? 10,
    connectTimeout: options.connectTimeoutMs ?? 10_000,
    entities: [],
    synchronize: false,
    logging: false,
  });
  try {
    return await dataSource.initialize();
  } catch (error) {
    await closeFailedStart(dataSource);
    throw lockDataSourceStartFailed(error, addressOf(options.url));
  }
}

// TypeORM ends the mysql2 pool itself only when the pool's first connection fails. A failure after
// that (the link reset during `SELECT version()`) leaves the pool open, and `destroy()` refuses a
// DataSource that never finished initializing, so the pool has to be ended through the driver.
async function closeFailedStart(dataSource: DataSource): Promise<void> {
  const driver = dataSource.driver as { pool?: unknown; poolCluster?: unknown; disconnect(): Promise<void> };
  try {
    if (dataSource.isInitialized) await dataSource.destroy();
    else if (driver.pool !== undefined || driver.poolCluster !== undefined) await driver.disconnect();
  } catch {
    // Best effort: the caller needs the start-up error, not one from tidying up after it.
  }
}

// Host and port only: the URL may carry a password, and the error message ends up in logs.
function addressOf(url: string): string {
  try {
    const { hostname, port } = new URL(url);
    return `${hostname}:${port || 3306}`;
  } catch {
    return 'the configured URL';
  }
}

/**
 * Check that the backend was given a TypeORM DataSource on the mysql2 drivers.
 *
 * @throws InvalidLockOptionsError naming what is wrong.
 */
export function assertMySqlDataSource(dataSource: unknown): asserts dataSource is DataSource {
  const candidate = dataSource as Partial<DataSource> | null | undefined;
  if (
    typeof candidate !== 'object' ||
    candidate === null ||
    typeof candidate.createQueryRunner !== 'function' ||
    typeof candidate.options !== 'object'
  ) {
    throw invalid('the first argument must be a TypeORM DataSource.');
  }
  const type = String(candidate.options?.type);
  if (!SUPPORTED_TYPES.has(type)) {
    throw invalid(`the DataSource must use the "mysql" or "mariadb" driver (got "${type}").`);
  }
}

/** mysql2's `connectionLimit` as TypeORM will configure it (`extra` wins over `poolSize`). */
export function poolSizeOf(dataSource: DataSource): number {
  const options = dataSource.options as {
    poolSize?: number;
    extra?: { connectionLimit?: number };
    replication?: { master?: { poolSize?: number } };
  };
  return (
    options.extra?.connectionLimit ??
    options.replication?.master?.poolSize ??
    options.poolSize ??
    MYSQL2_DEFAULT_POOL_SIZE
  );
}
