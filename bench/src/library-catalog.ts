import { type LockBackend, LockManager, MemoryLockBackend } from '@dlock/core';
import { Cluster, Redis } from 'ioredis';
import { Mutex } from 'redis-semaphore';
import { DataSource } from 'typeorm';
import { BENCH_LEASE_MS, type LibraryId, type LockAdapter, type StoreUrls } from './lock-adapter.js';
import { Redlock } from './redlock-client.js';
import { SEMAPHORE_LIBRARIES } from './semaphore-catalog.js';

/** What the bench knows about one library. */
export interface LibraryDescriptor {
  readonly id: LibraryId;
  /** Shown in tables and the chart legend. */
  readonly label: string;
  readonly store: 'redis' | 'mysql' | 'memory';
  readonly family: 'dlock' | 'peer';
  /** Runs against the bench's private 3-master Redis Cluster instead of the single server. */
  readonly redisCluster?: boolean;
  /** Settings used, printed under the tables so the numbers can be reproduced. */
  readonly settings: string;
  /**
   * Build an adapter, or say why this library cannot run here (e.g. a backend not written yet).
   * `permits`: the limit of a semaphore library; mutexes ignore it.
   */
  create(urls: StoreUrls, permits?: number): Promise<LockAdapter | { readonly unavailable: string }>;
}

type RedisBackendClass = new (redis: Redis | Cluster, options?: object) => LockBackend;
type MySqlBackendClass = new (dataSource: DataSource, options?: object) => LockBackend;

/** Polling interval given to redlock (plus up to the same again of jitter either way). */
const REDLOCK_RETRY_DELAY_MS = 10;

/** The libraries in the order tables list them: dlock first, then the peers. */
export const LIBRARIES: readonly LibraryDescriptor[] = [
  {
    id: 'dlock-pubsub',
    label: 'dlock pub/sub',
    store: 'redis',
    family: 'dlock',
    settings: 'RedisPubSubLockBackend defaults; LockManager.acquire/release',
    create: (urls) => createRedisDlock('dlock-pubsub', urls, '@dlock/redis-pubsub', 'RedisPubSubLockBackend'),
  },
  {
    id: 'dlock-spin',
    label: 'dlock spin',
    store: 'redis',
    family: 'dlock',
    settings: 'RedisSpinLockBackend defaults (backoff + jitter); LockManager.acquire/release',
    create: (urls) => createRedisDlock('dlock-spin', urls, '@dlock/redis-spin', 'RedisSpinLockBackend'),
  },
  {
    id: 'dlock-pubsub-cluster',
    label: 'dlock pub/sub (cluster)',
    store: 'redis',
    family: 'dlock',
    redisCluster: true,
    settings:
      'RedisPubSubLockBackend defaults on an ioredis `Cluster` (default options) of a private 3-master Redis Cluster; the backend adds its own sharded-pub/sub subscriber',
    create: (urls) =>
      createRedisDlock('dlock-pubsub-cluster', urls, '@dlock/redis-pubsub', 'RedisPubSubLockBackend'),
  },
  {
    id: 'dlock-spin-cluster',
    label: 'dlock spin (cluster)',
    store: 'redis',
    family: 'dlock',
    redisCluster: true,
    settings:
      'RedisSpinLockBackend defaults on an ioredis `Cluster` (default options) of a private 3-master Redis Cluster',
    create: (urls) =>
      createRedisDlock('dlock-spin-cluster', urls, '@dlock/redis-spin', 'RedisSpinLockBackend'),
  },
  {
    id: 'dlock-mysql',
    label: 'dlock MySQL',
    store: 'mysql',
    family: 'dlock',
    settings:
      'MySqlNamedLockBackend defaults (no fencing table), own DataSource from createLockDataSource (pool 4); GET_LOCK',
    create: createMySqlDlock,
  },
  {
    id: 'dlock-memory',
    label: 'dlock memory',
    store: 'memory',
    family: 'dlock',
    settings: 'MemoryLockBackend (in-process; no store round trip)',
    create: async () => dlockAdapter('dlock-memory', new MemoryLockBackend(), async () => {}),
  },
  {
    id: 'redlock',
    label: 'redlock',
    store: 'redis',
    family: 'peer',
    settings: `redlock 5.0.0-beta.2, one instance, retryDelay ${REDLOCK_RETRY_DELAY_MS} ms, retryJitter ${REDLOCK_RETRY_DELAY_MS} ms`,
    create: async ({ redisUrl }) => {
      const redis = new Redis(redisUrl);
      const redlock = new Redlock([redis], {
        retryDelay: REDLOCK_RETRY_DELAY_MS,
        retryJitter: REDLOCK_RETRY_DELAY_MS,
        automaticExtensionThreshold: 500,
      });
      // redlock emits 'error' for every failed attempt (the lock being taken); without a listener
      // EventEmitter would throw.
      redlock.on('error', () => {});
      await redis.ping();
      return {
        library: 'redlock',
        acquire: async (key, waitMs) => {
          const retryCount = Math.ceil(waitMs / REDLOCK_RETRY_DELAY_MS);
          const lock = await redlock.acquire([key], BENCH_LEASE_MS, { retryCount });
          return async () => {
            await lock.release();
          };
        },
        close: async () => {
          await redis.quit();
        },
      };
    },
  },
  redisSemaphore('redis-semaphore', 'redis-semaphore', 10),
  redisSemaphore('redis-semaphore-2ms', 'redis-semaphore 2 ms', 2),
  ...SEMAPHORE_LIBRARIES,
];

/**
 * The descriptor of `id`.
 *
 * @example
 * const pubsub = library('dlock-pubsub');
 */
export function library(id: LibraryId): LibraryDescriptor {
  const found = LIBRARIES.find((candidate) => candidate.id === id);
  if (!found) throw new Error(`unknown library ${id}`);
  return found;
}

function redisSemaphore(id: LibraryId, label: string, retryIntervalMs: number): LibraryDescriptor {
  return {
    id,
    label,
    store: 'redis',
    family: 'peer',
    settings: `redis-semaphore 5.8.0 Mutex, retryInterval ${retryIntervalMs} ms${retryIntervalMs === 10 ? ' (default)' : ''}, no refresh`,
    create: async ({ redisUrl }) => {
      const redis = new Redis(redisUrl);
      await redis.ping();
      return {
        library: id,
        acquire: async (key, waitMs) => {
          const mutex = new Mutex(redis, key, {
            lockTimeout: BENCH_LEASE_MS,
            acquireTimeout: waitMs,
            retryInterval: retryIntervalMs,
            // dlock's acquire() and redlock.acquire() do not renew either: same work for all.
            refreshInterval: 0,
          });
          await mutex.acquire();
          return () => mutex.release();
        },
        close: async () => {
          await redis.quit();
        },
      };
    },
  };
}

/**
 * Import a module whose exports the bench checks at run time, so the bench compiles and runs
 * while a backend package is still being written (it is then reported as unavailable).
 */
async function importOptional(specifier: string): Promise<Record<string, unknown> | string> {
  try {
    return (await import(specifier)) as Record<string, unknown>;
  } catch (error) {
    return `cannot import ${specifier}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`;
  }
}

async function createRedisDlock(
  id: LibraryId,
  urls: StoreUrls,
  specifier: string,
  exportName: string,
): Promise<LockAdapter | { unavailable: string }> {
  const onCluster = library(id).redisCluster === true;
  if (onCluster && !urls.redisClusterNodes) return { unavailable: 'no private Redis Cluster is running' };
  const module = await importOptional(specifier);
  if (typeof module === 'string') return { unavailable: module };
  const Backend = module[exportName];
  if (typeof Backend !== 'function') return { unavailable: `${specifier} does not export ${exportName} yet` };
  const redis = onCluster ? clusterClient(urls.redisClusterNodes!) : new Redis(urls.redisUrl);
  await redis.ping();
  const backend = new (Backend as RedisBackendClass)(redis);
  return dlockAdapter(id, backend, async () => {
    await redis.quit();
  });
}

/** A cluster client as users create one: the startup nodes, default options. */
function clusterClient(startupNodes: string): Cluster {
  return new Cluster(
    startupNodes.split(',').map((node) => {
      const [host, port] = node.split(':');
      return { host: host!, port: Number(port) };
    }),
  );
}

async function createMySqlDlock({ mysqlUrl }: StoreUrls): Promise<LockAdapter | { unavailable: string }> {
  const module = await importOptional('@dlock/mysql');
  if (typeof module === 'string') return { unavailable: module };
  const Backend = module.MySqlNamedLockBackend;
  if (typeof Backend !== 'function')
    return { unavailable: '@dlock/mysql does not export MySqlNamedLockBackend yet' };
  // Its own DataSource, as @dlock/mysql recommends: a held lock pins a connection.
  const createLockDataSource = module.createLockDataSource as
    | ((options: { url: string; poolSize: number }) => Promise<DataSource>)
    | undefined;
  const dataSource =
    typeof createLockDataSource === 'function'
      ? await createLockDataSource({ url: mysqlUrl, poolSize: 4 })
      : await new DataSource({ type: 'mysql', url: mysqlUrl, poolSize: 4 }).initialize();
  const backend = new (Backend as MySqlBackendClass)(dataSource);
  return dlockAdapter('dlock-mysql', backend, () => dataSource.destroy());
}

/** dlock as users call it: one LockManager per process, acquire() then release(). */
function dlockAdapter(id: LibraryId, backend: LockBackend, closeStore: () => Promise<void>): LockAdapter {
  const manager = new LockManager({ backends: { [id]: backend } });
  return {
    library: id,
    acquire: async (key, waitMs) => {
      const handle = await manager.acquire(key, { retry: { waitMs }, leaseMs: BENCH_LEASE_MS });
      return () => handle.release();
    },
    close: async () => {
      await manager.close();
      await closeStore();
    },
  };
}
