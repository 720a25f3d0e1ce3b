import {
  assertDuration,
  type BackendAcquireRequest,
  type BackendForceReleaseResult,
  type BackendLock,
  type BackendLockState,
  createClosingController,
  type LockBackend,
  LockBackendError,
  linkAbortSignals,
} from '@dlock/core';
import type { DataSource } from 'typeorm';
import { ConnectionSlots } from './connection-slots.js';
import { backendFencingCounter, type FencingCounter } from './fencing-counter.js';
import { LockConnection } from './lock-connection.js';
import { assertMySqlDataSource, poolSizeOf } from './lock-data-source.js';
import {
  closedError,
  getLockReturnedNull,
  slotsExhausted,
  toMySqlBackendError,
} from './mysql-backend-error.js';
import { MySqlHeldLock } from './mysql-held-lock.js';
import { MySqlLockInspector } from './mysql-lock-inspection.js';
import { toMySqlLockName } from './mysql-lock-name.js';
import {
  BACKEND,
  type MySqlNamedLockBackendOptions,
  type ResolvedMySqlLockOptions,
  resolveMySqlLockOptions,
} from './mysql-lock-options.js';
import { lockPhaseLimits, waitForNamedLock } from './mysql-lock-wait.js';
import { runOnSpareConnection, type SpareConnectionOptions } from './spare-connection.js';

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
  /** Where statements that belong to no caller's session run (interrupts). */
  readonly #spare: SpareConnectionOptions;
  #fractionalTimeouts: boolean | undefined;

  constructor(dataSource: DataSource, options: MySqlNamedLockBackendOptions = {}) {
    assertMySqlDataSource(dataSource);
    this.#dataSource = dataSource;
    this.#options = resolveMySqlLockOptions(options, poolSizeOf(dataSource));
    this.#fractionalTimeouts = this.#options.fractionalTimeouts;
    this.#slots = new ConnectionSlots(this.#options.maxConnections);
    this.#fencing = backendFencingCounter(dataSource, this.#options);
    this.#spare = {
      dataSource,
      connectionTimeoutMs: this.#options.connectionTimeoutMs,
      commandTimeoutMs: this.#options.commandTimeoutMs,
    };
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
    // Before the deadline starts: waitMs bounds the wait for the LOCK, not a one-time CREATE TABLE.
    await this.#fencingTableReady(key, signal);
    const deadline = Date.now() + waitMs;
    const remaining = () => Math.max(0, deadline - Date.now());
    const name = this.lockNameOf(key);
    const limitsNow = lockPhaseLimits({ deadline, waitMs, commandTimeoutMs, replyGraceMs, signal });

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

  /** The fencing table exists (created once, on a connection of its own), or a typed error. */
  async #fencingTableReady(key: string, signal: AbortSignal): Promise<void> {
    try {
      await this.#fencing?.ready(signal);
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      throw toMySqlBackendError(error, { key, action: 'creating the fencing table for' });
    }
  }

  /**
   * `KILL QUERY` (end a running wait) or `KILL` (end an abandoned session) from a spare pooled
   * connection. When the server cannot be reached, the slice ends by itself and an abandoned
   * session ends when the server sees its socket close. Never rejects.
   */
  async #interrupt(connectionId: number, statement: 'KILL QUERY ?' | 'KILL ?'): Promise<void> {
    const action = statement.replace(' ?', '');
    await runOnSpareConnection(this.#spare, {
      label: `(${action} ${connectionId})`,
      sql: statement,
      parameters: [connectionId],
      action,
    }).catch(() => {
      // The session may have ended already; the callers cope either way.
    });
  }
}
