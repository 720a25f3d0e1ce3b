import { LockBackendError, waitOrAbort } from '@dlock/core';
import type { DataSource, QueryRunner } from 'typeorm';
import { BACKEND } from './mysql-lock-options.js';

/** The part of a mysql2 pool connection this package touches (events tell us the session ended). */
interface DriverConnection {
  once(event: 'end' | 'error', listener: (error?: unknown) => void): unknown;
  removeListener(event: 'end' | 'error', listener: (error?: unknown) => void): unknown;
  /** mysql2: leave the pool and half-close the socket (waits for the server's FIN). */
  destroy(): void;
  /** The server's `CONNECTION_ID()`, from the handshake. */
  readonly threadId?: number | null;
  readonly stream?: { destroy(): void } | null;
}

export interface OpenLockConnectionOptions {
  readonly dataSource: DataSource;
  readonly key: string;
  /** Give up waiting for the pool (an idle connection or a new one) after this long. */
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
  /**
   * Called with the server-side id when a statement that blocks on the server (a `GET_LOCK`
   * wait) is abandoned, so the session can be ended from another connection at once instead of
   * when the server notices the closed socket. Never awaited.
   */
  readonly onAbandonedWait?: ((connectionId: number) => void) | undefined;
}

/** How long one statement may take, and what may end it early. */
export interface StatementLimits {
  /** Epoch ms: no answer by then destroys the connection and rejects with a retryable `LockBackendError`. */
  readonly deadline: number;
  /** The option that set the deadline, named in the error, e.g. `"commandTimeoutMs (5000 ms)"`. */
  readonly limit: string;
  /** What the statement does, for the error message, e.g. `"GET_LOCK"`. */
  readonly action: string;
  /** Aborting it abandons the statement at once: the connection is destroyed, the call rejects with the reason. */
  readonly signal?: AbortSignal | undefined;
  /** The statement blocks on the server (`GET_LOCK` with a timeout): end the session from outside when abandoned. */
  readonly blocking?: boolean;
}

/**
 * One pooled connection (a TypeORM `QueryRunner`) owned by one lock from `GET_LOCK` to
 * `RELEASE_LOCK`. Named locks belong to the session, so every statement about a lock must go
 * through the connection that took it; this class is the only way the backend sends them, and it
 * gives every statement a deadline: a network gone silent (no RST) never answers, and mysql2 would
 * wait for it until TCP gives up, hours later.
 *
 * @example
 * const connection = await LockConnection.open({ dataSource, key, timeoutMs: 5_000, signal });
 * try {
 *   await connection.selectOne('SELECT GET_LOCK(?, 0) AS acquired', [name], {
 *     deadline: Date.now() + 5_000, limit: 'commandTimeoutMs (5000 ms)', action: 'GET_LOCK',
 *   });
 * } finally { connection.close({ destroy: false }); }
 */
export class LockConnection {
  readonly #runner: QueryRunner;
  readonly #driver: DriverConnection;
  readonly #key: string;
  readonly #onAbandonedWait: ((connectionId: number) => void) | undefined;
  #gone = false;
  #closed = false;
  #destroyed = false;
  #onGone: (() => void) | undefined;
  /** Server-side `CONNECTION_ID()`, from the handshake or the first attempt. */
  connectionId: number | undefined;
  /**
   * Set once a `KILL QUERY` was sent for this session: a late kill could hit the next borrower's
   * statement, so such a connection is destroyed instead of going back to the pool.
   */
  tainted = false;

  private constructor(runner: QueryRunner, driver: DriverConnection, options: OpenLockConnectionOptions) {
    this.#runner = runner;
    this.#driver = driver;
    this.#key = options.key;
    this.#onAbandonedWait = options.onAbandonedWait;
    this.connectionId = typeof driver.threadId === 'number' ? driver.threadId : undefined;
    driver.once('end', this.#markGone);
    driver.once('error', this.#markGone);
  }

  /**
   * Borrow a connection from the DataSource's pool. mysql2 pools wait forever when exhausted (and a
   * new connection's handshake waits as long as TCP lets it), so the wait is bounded here; a
   * connection that arrives after the caller gave up goes straight back.
   */
  static async open(options: OpenLockConnectionOptions): Promise<LockConnection> {
    options.signal.throwIfAborted();
    const runner = options.dataSource.createQueryRunner('master');
    const connecting = runner.connect() as Promise<DriverConnection>;
    const driver = await waitOrAbort(connecting, {
      signal: options.signal,
      timeoutMs: options.timeoutMs,
      timeoutError: () =>
        new LockBackendError(
          `No MySQL connection for lock "${options.key}" (backend "${BACKEND}") within ${Math.round(options.timeoutMs)} ms ` +
            '(connectionTimeoutMs): the pool is exhausted, or the server did not complete a new connection in time. ' +
            'Give the lock backend its own DataSource, lower maxConnections, raise the pool size, or check the network.',
          { backend: BACKEND, key: options.key, isRetryable: true },
        ),
      // A connection that arrives after the caller gave up goes straight back to the pool.
      onAbandoned: () =>
        connecting.then(
          () => void runner.release(),
          () => undefined,
        ),
    });
    return new LockConnection(runner, driver, options);
  }

  /** Call `listener` once if the session ends while this connection is still ours. */
  onGone(listener: () => void): void {
    this.#onGone = listener;
    // Already over (destroyed by an abandoned statement, or closed by the server): say so now.
    if (this.#gone) listener();
  }

  /** True once the session is known to be over, and its named locks with it. */
  get gone(): boolean {
    return this.#gone;
  }

  /** Run one parameterized statement within `limits` and return its first row (`{}` when there is none). */
  async selectOne(
    sql: string,
    parameters: readonly unknown[],
    limits: StatementLimits,
  ): Promise<Record<string, unknown>> {
    const rows = await this.execute(sql, parameters, limits);
    const first = Array.isArray(rows) ? rows[0] : undefined;
    return typeof first === 'object' && first !== null ? (first as Record<string, unknown>) : {};
  }

  /** Run one parameterized statement within `limits` and return the driver's raw result (e.g. `insertId`). */
  execute(sql: string, parameters: readonly unknown[], limits: StatementLimits): Promise<unknown> {
    if (limits.signal?.aborted) return Promise.reject(limits.signal.reason);
    const answer = this.#runner.query(sql, [...parameters]) as Promise<unknown>;
    return waitOrAbort(answer, {
      signal: limits.signal,
      timeoutMs: limits.deadline - Date.now(),
      timeoutError: () =>
        new LockBackendError(
          `MySQL did not answer ${limits.action} for lock "${this.#key}" (backend "${BACKEND}") within ${limits.limit}. ` +
            'Its connection was destroyed, so the server drops that session and its named locks once it notices. ' +
            'Check the network to the server; if it is only slow, raise the option named.',
          { backend: BACKEND, key: this.#key, isRetryable: true },
        ),
      // Nobody waits for this statement any more: end its session, and with it what it may hold.
      onAbandoned: () => {
        if (limits.blocking && this.connectionId !== undefined) this.#onAbandonedWait?.(this.connectionId);
        this.destroy();
      },
    });
  }

  /**
   * Close the socket now, without waiting for the server: a silent network would never acknowledge
   * a graceful close. The server ends the session (dropping its named locks) when it sees the close;
   * anything in flight on it is abandoned. Idempotent.
   */
  destroy(): void {
    if (!this.#destroyed) {
      this.#destroyed = true;
      // mysql2's destroy() takes it out of the pool but only half-closes the socket.
      this.#driver.destroy();
      this.#driver.stream?.destroy();
    }
    this.#markGone();
  }

  /**
   * Hand the connection back to the pool, or destroy it (closing the session, which makes the
   * server drop any named lock it still holds). Idempotent.
   */
  close(options: { destroy: boolean }): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#driver.removeListener('end', this.#markGone);
    this.#driver.removeListener('error', this.#markGone);
    this.#onGone = undefined;
    if (options.destroy || this.tainted || this.#gone) this.destroy();
    // After destroy() the pool has already forgotten the connection, so release() is a no-op.
    void this.#runner.release();
  }

  readonly #markGone = (): void => {
    if (this.#gone) return;
    this.#gone = true;
    this.#onGone?.();
  };
}
