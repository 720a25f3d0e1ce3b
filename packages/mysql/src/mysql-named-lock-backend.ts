import {
  assertDuration,
  type BackendAcquireRequest,
  type BackendForceReleaseResult,
  type BackendLock,
  type BackendLockState,
  createClosingController,
  type LockBackend,
  LockBackendError,
  LockCapacityError,
  linkAbortSignals,
  waitOrAbort,
} from '@dlock/core';
import type { DataSource } from 'typeorm';
import { ConnectionSlots } from './connection-slots.js';
import { FencingCounter } from './fencing-counter.js';
import { LockConnection, type StatementLimits } from './lock-connection.js';
import { getLockReturnedNull, toMySqlBackendError } from './mysql-backend-error.js';
import { MySqlHeldLock } from './mysql-held-lock.js';
import { MySqlLockInspector } from './mysql-lock-inspection.js';
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
const NEVER = new AbortController().signal;

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
  readonly #closing = createClosingController();
  readonly #held = new Set<MySqlHeldLock>();
  readonly #pending = new Set<Promise<unknown>>();
  readonly #inspector: MySqlLockInspector;
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
        : new FencingCounter(this.#options.fencingTable, this.#options.createFencingTable, {
            // Pruning runs on another pooled connection, in the background: never on the session
            // that holds a lock, never inside an acquisition's deadline.
            pruneElsewhere: (sql, parameters) =>
              waitOrAbort(dataSource.query(sql, [...parameters]), {
                timeoutMs: this.#options.commandTimeoutMs,
                timeoutError: () => new Error('fencing table prune did not answer in time'),
              }),
          });
    this.#inspector = new MySqlLockInspector({
      dataSource,
      lockNameOf: (key) => this.lockNameOf(key),
      fencingTable: this.#options.fencingTable,
    });
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
    // The manager checks these too, but a request may come from elsewhere: a lease Node cannot
    // time would fire after 1 ms and release the lock while its holder is still inside.
    assertDuration('leaseMs', request.leaseMs, { backend: BACKEND });
    assertDuration('waitMs', request.waitMs, { backend: BACKEND, allowZero: true });
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
   * Who holds `key` as the server sees it: the holding session (`IS_USED_LOCK` -> connection id ->
   * process list: client address, user, idle seconds), the sessions blocked in `GET_LOCK` on it,
   * and the last fencing token when `fencingTable` is set. Host, pid, app name and label are not
   * recorded on MySQL (that would cost a write per lock); the lease lives in the holder's process.
   * Uses a pooled connection of the DataSource (outside `maxConnections`).
   */
  async inspect(key: string): Promise<BackendLockState> {
    return this.#inspector.inspect(key);
  }

  /**
   * `KILL` the session holding `key`: the server frees the lock at once and the holder reports it
   * lost. Needs the privilege to kill that session (`CONNECTION_ADMIN`/`SUPER` for other users').
   */
  async forceRelease(key: string): Promise<BackendForceReleaseResult> {
    return this.#inspector.forceRelease(key);
  }

  /**
   * Stop waiting callers at once (they reject; their connections are destroyed), release every lock
   * still held through this backend (its holder's `extend`/`release` then report it gone) and return
   * their connections. A release the server does not answer within `min(commandTimeoutMs, 250 ms)`
   * destroys its connection instead. The DataSource is the caller's and stays open.
   */
  async close(): Promise<void> {
    this.#closing.abort(closedError());
    await Promise.allSettled([...this.#pending]);
    await Promise.allSettled([...this.#held].map((lock) => lock.abandon(this.#options.replyGraceMs)));
  }

  async #acquire(request: BackendAcquireRequest): Promise<BackendLock | null> {
    const link = linkAbortSignals([request.signal, this.#closing.signal]);
    try {
      return await this.#acquireLinked(request, link.signal);
    } finally {
      link.dispose();
    }
  }

  async #acquireLinked(request: BackendAcquireRequest, signal: AbortSignal): Promise<BackendLock | null> {
    const { key, waitMs } = request;
    const { commandTimeoutMs, replyGraceMs } = this.#options;
    const deadline = Date.now() + waitMs;
    const remaining = () => Math.max(0, deadline - Date.now());
    const name = this.lockNameOf(key);
    /**
     * Limits of a statement that does not block on the server. A waiting caller's `waitMs` bounds
     * the whole lock phase: no answer is awaited past the deadline plus the reply grace (at least
     * the grace, when opening the connection used the wait up).
     */
    const limitsNow = (): Omit<StatementLimits, 'action'> => {
      const now = Date.now();
      const ownEnd = now + commandTimeoutMs;
      const callerEnd = Math.max(deadline, now) + replyGraceMs;
      return waitMs > 0 && callerEnd < ownEnd
        ? {
            deadline: callerEnd,
            limit: `retry.waitMs (${Math.round(waitMs)} ms) + ${replyGraceMs} ms`,
            signal,
          }
        : { deadline: ownEnd, limit: `commandTimeoutMs (${commandTimeoutMs} ms)`, signal };
    };

    if (!(await this.#slots.take(waitMs > 0 ? remaining() : 0, signal))) {
      throw slotsExhausted(key, this.#slots.capacity, waitMs);
    }
    let connection: LockConnection | undefined;
    let handedOver = false;
    let failed = false;
    try {
      // Bounded by connectionTimeoutMs alone: waitMs is how long to wait for the LOCK, and a
      // short one must not turn "the pool is opening a connection" into a failure.
      connection = await LockConnection.open({
        dataSource: this.#dataSource,
        key,
        timeoutMs: this.#options.connectionTimeoutMs,
        signal,
        onAbandonedWait: (connectionId) => void this.#interrupt(connectionId, 'KILL ?'),
      });
      // First try never waits: a try-once caller gets exactly this one round trip, and it tells
      // us the session id (for KILL QUERY) and whether the server takes fractional timeouts.
      const first = await connection.selectOne(
        'SELECT GET_LOCK(?, 0) AS acquired, CONNECTION_ID() AS connectionId, VERSION() AS version',
        [name],
        { ...limitsNow(), action: 'GET_LOCK' },
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
          waitMs,
          sliceMs: this.#options.waitSliceMs,
          fractionalTimeouts: this.#fractionalTimeouts,
          commandTimeoutMs,
          replyGraceMs,
          signal,
          interrupt: (connectionId) => this.#interrupt(connectionId, 'KILL QUERY ?'),
        });
        if (!acquired) return null;
      }
      // The lease is ours to enforce, so it starts when the server said yes.
      const acquiredAt = Date.now();
      const fencingToken = this.#fencing
        ? await this.#fencing.next(connection, name, limitsNow())
        : undefined;
      // A session that ended meanwhile (an abandoned statement destroyed it) holds nothing.
      if (connection.gone) throw new Error('the lock connection ended before the lock was handed over');
      const lock = new MySqlHeldLock({
        connection,
        name,
        key,
        leaseMs: request.leaseMs,
        acquiredAt,
        fencingToken,
        commandTimeoutMs,
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

  /**
   * `KILL QUERY` (end a running wait) or `KILL` (end an abandoned session) from another pooled
   * connection, outside the slots: the spare connection `maxConnections` leaves in the pool. Both
   * its wait for the pool and its statement are bounded; when the server cannot be reached, the
   * slice ends by itself and an abandoned session ends when the server sees its socket close.
   * Never rejects.
   */
  async #interrupt(connectionId: number, statement: 'KILL QUERY ?' | 'KILL ?'): Promise<void> {
    let connection: LockConnection | undefined;
    try {
      connection = await LockConnection.open({
        dataSource: this.#dataSource,
        key: `(${statement.replace(' ?', '')} ${connectionId})`,
        timeoutMs: this.#options.connectionTimeoutMs,
        signal: NEVER,
      });
      await connection.execute(statement, [connectionId], {
        deadline: Date.now() + this.#options.commandTimeoutMs,
        limit: `commandTimeoutMs (${this.#options.commandTimeoutMs} ms)`,
        action: statement.replace(' ?', ''),
      });
    } catch {
      // The session may have ended already; the callers cope either way.
    } finally {
      connection?.close({ destroy: false });
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

function slotsExhausted(key: string, capacity: number, waitMs: number): LockCapacityError {
  return new LockCapacityError(
    `All ${capacity} lock connections of backend "${BACKEND}" are in use by this process (maxConnections), ` +
      `so lock "${key}" could not even be tried${waitMs > 0 ? ` within ${Math.round(waitMs)} ms` : ''}. ` +
      'This is a local limit of this process, not a database failure: raise maxConnections together with the ' +
      'pool size of the lock DataSource, or release locks sooner.',
    { backend: BACKEND, key, limit: 'maxConnections' },
  );
}

function closedError(key?: string): LockBackendError {
  return new LockBackendError('MySqlNamedLockBackend is closed; create a new backend.', {
    backend: BACKEND,
    key,
    isRetryable: false,
  });
}
