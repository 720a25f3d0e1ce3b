import { type LockBackend, LockManager } from '@dlock/core';
import type { CliCommand } from './cli-args.js';

/** The manager the CLI asks, and how to close it with the connections it opened. */
export interface CliLocks {
  readonly manager: LockManager;
  /** Manager backend names, in the order the options named them (`redis`, `mysql`). */
  readonly backends: readonly string[];
  /** Close the manager, then the Redis client and MySQL DataSource it opened. */
  close(): Promise<void>;
}

/**
 * Open the stores named by `--redis` / `--mysql` and a {@link LockManager} over them (no
 * `keyPrefix` of its own: keys are shown as the app's manager passed them to its backend).
 * The drivers load only when their option is given.
 *
 * @example
 * const locks = await openCliLocks(parseCliArgs(['list', '--redis', 'redis://127.0.0.1:6379']));
 */
export async function openCliLocks(
  command: Pick<CliCommand, 'redis' | 'mysql' | 'prefix'>,
): Promise<CliLocks> {
  const backends: Record<string, LockBackend> = {};
  const closers: (() => Promise<unknown>)[] = [];
  const keyPrefix = command.prefix === undefined ? {} : { keyPrefix: command.prefix };
  try {
    if (command.redis !== undefined) {
      const [{ Redis }, { RedisSpinLockBackend }] = await Promise.all([
        import('ioredis'),
        import('@dlock/redis-spin'),
      ]);
      // An operator's tool: fail fast with the connection error instead of retrying forever.
      const redis = new Redis(command.redis, {
        lazyConnect: true,
        maxRetriesPerRequest: 1,
        enableOfflineQueue: true,
        retryStrategy: () => null,
        connectionName: 'dlock-cli',
      });
      closers.push(() => redis.quit().catch(() => redis.disconnect()));
      await redis.connect();
      backends.redis = new RedisSpinLockBackend(redis, keyPrefix);
    }
    if (command.mysql !== undefined) {
      const { createLockDataSource, MySqlNamedLockBackend } = await import('@dlock/mysql');
      const dataSource = await createLockDataSource({
        url: command.mysql,
        poolSize: 2,
        connectTimeoutMs: 5_000,
      });
      closers.push(() => dataSource.destroy());
      backends.mysql = new MySqlNamedLockBackend(dataSource, { ...keyPrefix, maxConnections: 1 });
    }
  } catch (error) {
    await Promise.allSettled(closers.map((close) => close()));
    throw error;
  }
  const manager = new LockManager({ backends, appName: 'dlock-cli' });
  return {
    manager,
    backends: Object.keys(backends),
    close: async () => {
      await manager.close();
      await Promise.allSettled(closers.map((close) => close()));
    },
  };
}
