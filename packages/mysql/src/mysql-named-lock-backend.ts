import {
  type BackendAcquireRequest,
  type BackendLock,
  type LockBackend,
  LockBackendError,
} from '@dlock/core';
import type { DataSource } from 'typeorm';
import { ConnectionSlots } from './connection-slots.js';
import { FencingCounter } from './fencing-counter.js';
import { LockConnection } from './lock-connection.js';
import { getLockReturnedNull, toMySqlBackendError } from './mysql-backend-error.js';
import { MySqlHeldLock } from './mysql-held-lock.js';
import { toMySqlLockName } from './mysql-lock-name.js';
import {
  BACKEND,
  invalid,
  type MySqlNamedLockBackendOptions,
  type ResolvedMySqlLockOptions,
  resolveMySqlLockOptions,
} from './mysql-lock-options.js';
import { waitForNamedLock } from './mysql-lock-wait.js';

const SUPPORTED_TYPES = new Set(['mysql', 'mariadb']);
const MYSQL2_DEFAULT_POOL_SIZE = 10;
const INTERRUPT_TIMEOUT_MS = 1_000;

/**
 * Lock backend on MySQL/MariaDB named locks (`GET_LOCK` / `RELEASE_LOCK`) through a TypeORM
 * `DataSource` (`mysql` or `mariadb` driver, mysql2 underneath).
 *
 * Each held lock owns one pooled connection from `GET_LOCK` to `RELEASE_LOCK`, because the server
 * ties a named lock to the session that took it; the connection returns to the pool only after
 * the release. Named locks have no TTL: the lease (`leaseMs`) is enforced by this backend, which
 * releases a lock that was not extended in time; if the holding session dies, the server drops
 * the lock and the next renewal reports it lost.
 *
 * Give the backend its own DataSource (see {@link createLockDataSource}): a lock holds a
 * connection for its whole critical section, so sharing the app's pool can starve the work inside.
 *
 * @example
 * const locks = await createLockDataSource({ url: process.env.MYSQL_URL!, poolSize: 10 });
 * const mysql = new MySqlNamedLockBackend(locks, { maxConnections: 9 });
 * const manager = new LockManager({ backends: { mysql }, route: () => 'mysql' });
 */
export class MySqlNamedLockBackend implements LockBackend {
  readonly #dataSource: DataSource;
  readonly #options: ResolvedMySqlLockOptions;
  readonly #slots: ConnectionSlots;
  readonly #fencing: FencingCounter | undefined;
  readonly #closing = new AbortController();
  readonly #held = new Set<MySqlHeldLock>();
  readonly #pending = new Set<Promise<unknown>>();
  #fractionalTimeouts: boolean | undefined;

  constructor(dataSource: DataSource, options: MySqlNamedLockBackendOptions = {}) {
    assertMySqlDataSource(dataSource);
    this.#dataSource = dataSource;
    this.#options = resolveMySqlLockOptions(options, poolSizeOf(dataSource));
    this.#fractionalTimeouts = this.#options.fractionalTimeouts;
    this.#slots = new ConnectionSlots(this.#options.maxConnections);
    this.#fencing =
      this.#options.fencingTable === undefined
        ? undefined
        : new FencingCounter(this.#options.fencingTable, this.#options.createFencingTable);
  }

  /** The most connections this backend holds at once (`maxConnections`). */
  get maxConnections(): number {
    return this.#slots.capacity;
  }

  /** Connections this backend holds right now (held locks plus waits in progress). */
  get connectionsInUse(): number {
    return this.#slots.inUse;
  }

  /**
   * The server-side lock name of a key (after the manager's own prefix), e.g. to look a lock up
   * with `SELECT IS_USED_LOCK(?)` or in `performance_schema.metadata_locks`.
   *
   * @example
   * backend.lockNameOf('stock:42'); // "dlock:stock:42#…"
   */
  lockNameOf(key: string): string {
    return toMySqlLockName(this.#options.keyPrefix, key);
  }

  async acquire(request: BackendAcquireRequest): Promise<BackendLock | null> {
    if (this.#closing.signal.aborted) throw closedError(request.key);
    if (!this.#dataSource.isInitialized) {
      throw new LockBackendError(
        `MySqlNamedLockBackend: the DataSource is not initialized; await dataSource.initialize() before locking "${request.key}".`,
        { backend: BACKEND, key: request.key, isRetryable: false },
      );
    }
    const attempt = this.#acquire(request);
    this.#pending.add(attempt);
    try {
      return await attempt;
    } finally {
      this.#pending.delete(attempt);
    }
  }

  /**
   * Stop waiting callers (they reject), release every lock still held through this backend (its
   * holder's `extend`/`release` then report it gone) and return their connections. The DataSource
   * is the caller's and stays open.
   */
  async close(): Promise<void> {
    this.#closing.abort(closedError());
    await Promise.allSettled([...this.#pending]);
    await Promise.allSettled([...this.#held].map((lock) => lock.abandon()));
  }

  async #acquire(request: BackendAcquireRequest): Promise<BackendLock | null> {
    const { key } = request;
    const signal = AbortSignal.any([request.signal, this.#closing.signal]);
    const deadline = Date.now() + request.waitMs;
    const remaining = () => Math.max(0, deadline - Date.now());
    const name = this.lockNameOf(key);

    if (!(await this.#slots.take(request.waitMs > 0 ? remaining() : 0, signal))) {
      throw slotsExhausted(key, this.#slots.capacity, request.waitMs);
    }
    let connection: LockConnection | undefined;
    let handedOver = false;
    let failed = false;
    try {
      connection = await LockConnection.open({
        dataSource: this.#dataSource,
        key,
        timeoutMs:
          request.waitMs > 0
            ? Math.min(this.#options.connectionTimeoutMs, Math.max(1, remaining()))
            : this.#options.connectionTimeoutMs,
        signal,
      });
      // First try never waits: a try-once caller gets exactly this one round trip, and it tells
      // us the session id (for KILL QUERY) and whether the server takes fractional timeouts.
      const first = await connection.selectOne(
        'SELECT GET_LOCK(?, 0) AS acquired, CONNECTION_ID() AS connectionId, VERSION() AS version',
        [name],
      );
      connection.connectionId = Number(first.connectionId);
      this.#fractionalTimeouts ??= /mariadb/i.test(String(first.version));
      if (first.acquired === null || first.acquired === undefined) throw getLockReturnedNull(key);
      if (Number(first.acquired) !== 1) {
        if (request.waitMs <= 0) return null;
        request.onContended?.();
        const acquired = await waitForNamedLock({
          connection,
          name,
          key,
          deadline,
          sliceMs: this.#options.waitSliceMs,
          fractionalTimeouts: this.#fractionalTimeouts,
          signal,
          interrupt: (connectionId) => this.#interrupt(connectionId),
        });
        if (!acquired) return null;
      }
      // The lease is ours to enforce, so it starts when the server said yes.
      const acquiredAt = Date.now();
      const fencingToken = this.#fencing ? await this.#fencing.next(connection, name) : undefined;
      const lock = new MySqlHeldLock({
        connection,
        name,
        key,
        leaseMs: request.leaseMs,
        acquiredAt,
        fencingToken,
        onSettled: () => {
          this.#held.delete(lock);
          this.#slots.give();
        },
      });
      this.#held.add(lock);
      handedOver = true;
      return lock;
    } catch (error) {
      failed = true;
      if (signal.aborted) throw signal.reason;
      throw toMySqlBackendError(error, { key, action: 'acquiring' });
    } finally {
      if (!handedOver) {
        // After a failure the session may hold the lock (e.g. the fencing insert failed):
        // destroying it makes the server drop whatever it holds.
        connection?.close({ destroy: failed });
        this.#slots.give();
      }
    }
  }

  /** `KILL QUERY` from another pooled connection; if none is free in time, the slice ends by itself. */
  async #interrupt(connectionId: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.#dataSource.query('KILL QUERY ?', [connectionId]),
        new Promise((resolve) => {
          timer = setTimeout(resolve, INTERRUPT_TIMEOUT_MS);
        }),
      ]);
    } catch {
      // The session may have ended already; the wait loop copes either way.
    } finally {
      clearTimeout(timer);
    }
  }
}

function assertMySqlDataSource(dataSource: unknown): asserts dataSource is DataSource {
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
function poolSizeOf(dataSource: DataSource): number {
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

function slotsExhausted(key: string, capacity: number, waitMs: number): LockBackendError {
  return new LockBackendError(
    `All ${capacity} lock connections of backend "${BACKEND}" are in use (maxConnections), so lock "${key}" ` +
      `could not even be tried${waitMs > 0 ? ` within ${waitMs} ms` : ''}. Raise maxConnections together with ` +
      'the pool size of the lock DataSource, or shorten the critical sections.',
    { backend: BACKEND, key, isRetryable: true },
  );
}

function closedError(key?: string): LockBackendError {
  return new LockBackendError('MySqlNamedLockBackend is closed; create a new backend.', {
    backend: BACKEND,
    key,
    isRetryable: false,
  });
}
