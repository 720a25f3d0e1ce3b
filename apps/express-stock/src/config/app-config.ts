/** Everything the app reads from the environment, resolved once at startup. */
export interface AppConfig {
  /** HTTP port; 0 picks a free one (the demo and the tests do this). */
  readonly port: number;
  readonly host: string;
  readonly redisUrl: string;
  readonly mysqlUrl: string;
  /** Prefix of every table this app owns (`demo_stock`, `demo_order`, `demo_race_stock`, `demo_migrations`). */
  readonly tablePrefix: string;
  /**
   * Run the app's migrations at startup (under a lock, so servers starting together run them once).
   * They only create the app's own tables, and refuse to start if a table of that name exists that
   * they did not create. There is no schema sync (TypeORM `synchronize` alters and drops columns).
   */
  readonly runMigrations: boolean;
  /** Connections of the app's own pool (transactions). */
  readonly appPoolSize: number;
  /** Connections of the separate pool that only holds MySQL named locks (GET_LOCK). */
  readonly lockPoolSize: number;
  /** Simulated work between reading and writing the stock (e.g. a pricing call): widens the race window. */
  readonly stockWorkMs: number;
  /** Name of the (simulated) payment provider: the `{0}` of the `psp:{0}` semaphore. */
  readonly paymentProvider: string;
  /** The simulated provider takes this to twice this per authorisation, in ms. */
  readonly paymentProviderMs: number;
  /** How long `SIGTERM` waits for in-flight requests before forcing locks and connections closed. */
  readonly shutdownGraceMs: number;
  readonly logLevel: string;
}

/** Local defaults match the README's `docker compose up -d` and a plain local install. */
const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
/** A database of the app's own, created at startup if missing; it never shares `test` by default. */
export const DEFAULT_MYSQL_URL = 'mysql://root@127.0.0.1:3306/express_stock';

/**
 * Read the configuration from `env` (default `process.env`). Invalid numbers fail at startup, not
 * on the first request.
 *
 * @example
 * const config = loadAppConfig({ PORT: '3000' });
 */
export function loadAppConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  if (env.DB_SYNCHRONIZE === 'true') {
    // Schema sync once dropped a column (and its data) of a table that merely had the app's name.
    throw new Error(
      'DB_SYNCHRONIZE was removed: the app creates its own tables with migrations and never alters others. ' +
        'Unset it; use DB_MIGRATE=false to skip the migrations.',
    );
  }
  return {
    port: readInteger(env, 'PORT', 3000, 0),
    host: env.HOST ?? '127.0.0.1',
    redisUrl: env.REDIS_URL || DEFAULT_REDIS_URL,
    mysqlUrl: env.MYSQL_URL || DEFAULT_MYSQL_URL,
    tablePrefix: readTablePrefix(env.TABLE_PREFIX ?? 'demo_'),
    runMigrations: env.DB_MIGRATE !== 'false',
    appPoolSize: readInteger(env, 'APP_POOL_SIZE', 10, 1),
    lockPoolSize: readInteger(env, 'LOCK_POOL_SIZE', 4, 1),
    stockWorkMs: readInteger(env, 'STOCK_WORK_MS', 5, 0),
    paymentProvider: readProviderName(env.PAYMENT_PROVIDER ?? 'acme'),
    paymentProviderMs: readInteger(env, 'PAYMENT_PROVIDER_MS', 100, 0),
    shutdownGraceMs: readInteger(env, 'SHUTDOWN_GRACE_MS', 10_000, 0),
    logLevel: env.LOG_LEVEL || 'info',
  };
}

/**
 * How long `StockService.decrease` waits for the stock lock. Read when the service module loads,
 * because a decorator's options are fixed at class definition time.
 */
export function stockLockWaitMs(env: NodeJS.ProcessEnv = process.env): number {
  return readInteger(env, 'STOCK_LOCK_WAIT_MS', 10_000, 1);
}

/**
 * How long `PaymentService.authorise` waits for a permit. Read when the service module loads, like
 * {@link stockLockWaitMs}.
 */
export function paymentWaitMs(env: NodeJS.ProcessEnv = process.env): number {
  return readInteger(env, 'PAYMENT_WAIT_MS', 10_000, 1);
}

function readInteger(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) {
    throw new Error(`${name} must be an integer >= ${min}, got "${raw}".`);
  }
  return value;
}

function readProviderName(name: string): string {
  // Goes into a lock key and Redis counter keys: the same characters as the app's ids.
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(name)) {
    throw new Error(`PAYMENT_PROVIDER may only contain A-Z, a-z, 0-9, _ and - (1-64), got "${name}".`);
  }
  return name;
}

function readTablePrefix(prefix: string): string {
  // Goes into table names: keep it to characters that need no quoting anywhere.
  if (!/^[a-z0-9_]{0,32}$/.test(prefix)) {
    throw new Error(`TABLE_PREFIX may only contain a-z, 0-9 and _ (max 32), got "${prefix}".`);
  }
  return prefix;
}
