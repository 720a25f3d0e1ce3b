/** Every library the bench can run, by a stable id used in tables, charts and worker messages. */
export type LibraryId =
  | 'dlock-pubsub'
  | 'dlock-spin'
  | 'dlock-pubsub-cluster'
  | 'dlock-spin-cluster'
  | 'dlock-mysql'
  | 'dlock-memory'
  | 'redlock'
  | 'redis-semaphore'
  | 'redis-semaphore-2ms'
  // One permit of a semaphore (the semaphore scenario only).
  | 'dlock-pubsub-semaphore'
  | 'dlock-spin-semaphore'
  | 'redis-semaphore-semaphore';

/** Releases the lock the adapter took. */
type ReleaseLock = () => Promise<void>;

/**
 * The one shape every library is driven through, so each scenario runs the same code for all:
 * wait up to `waitMs` for `key`, get back a function that releases it.
 *
 * @example
 * const release = await adapter.acquire('bench:key', 10_000);
 * try { await criticalSection(); } finally { await release(); }
 */
export interface LockAdapter {
  readonly library: LibraryId;
  /** Wait up to `waitMs` for the lock; reject if it stays taken (or the store fails). */
  acquire(key: string, waitMs: number): Promise<ReleaseLock>;
  /** Close every connection the adapter opened. */
  close(): Promise<void>;
}

/** Where the stores are. Lock traffic for Redis goes to the bench's private server. */
export interface StoreUrls {
  readonly redisUrl: string;
  readonly mysqlUrl: string;
  /**
   * `host:port,host:port,...` of the bench's private Redis Cluster; absent when no cluster library
   * was selected (or the cluster could not start).
   */
  readonly redisClusterNodes?: string;
}

/** The lease every library is asked for: long enough never to expire during a benchmark hold. */
export const BENCH_LEASE_MS = 30_000;
