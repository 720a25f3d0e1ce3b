import { LockBackendError } from '@dlock/core';
import type { DataSource, QueryRunner } from 'typeorm';
import { BACKEND } from './mysql-lock-options.js';

/** The part of a mysql2 pool connection this package touches (events tell us the session ended). */
interface DriverConnection {
  once(event: 'end' | 'error', listener: (error?: unknown) => void): unknown;
  removeListener(event: 'end' | 'error', listener: (error?: unknown) => void): unknown;
  destroy(): void;
}

export interface OpenLockConnectionOptions {
  readonly dataSource: DataSource;
  readonly key: string;
  /** Give up waiting for the pool after this long. */
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
}

/**
 * One pooled connection (a TypeORM `QueryRunner`) owned by one lock from `GET_LOCK` to
 * `RELEASE_LOCK`. Named locks belong to the session, so every statement about a lock must go
 * through the connection that took it; this class is the only way the backend sends them.
 *
 * @example
 * const connection = await LockConnection.open({ dataSource, key, timeoutMs: 5_000, signal });
 * try { await connection.selectOne('SELECT GET_LOCK(?, 0) AS acquired', [name]); }
 * finally { connection.close({ destroy: false }); }
 */
export class LockConnection {
  readonly #runner: QueryRunner;
  readonly #driver: DriverConnection;
  #gone = false;
  #closed = false;
  #onGone: (() => void) | undefined;
  /** Server-side `CONNECTION_ID()`, known after the first attempt. */
  connectionId: number | undefined;
  /**
   * Set once a `KILL QUERY` was sent for this session: a late kill could hit the next borrower's
   * statement, so such a connection is destroyed instead of going back to the pool.
   */
  tainted = false;

  private constructor(runner: QueryRunner, driver: DriverConnection) {
    this.#runner = runner;
    this.#driver = driver;
    driver.once('end', this.#markGone);
    driver.once('error', this.#markGone);
  }

  /**
   * Borrow a connection from the DataSource's pool. mysql2 pools wait forever when exhausted, so
   * the wait is bounded here; a connection that arrives after the caller gave up goes straight back.
   */
  static async open(options: OpenLockConnectionOptions): Promise<LockConnection> {
    options.signal.throwIfAborted();
    const runner = options.dataSource.createQueryRunner('master');
    const connecting = runner.connect() as Promise<DriverConnection>;
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const giveUp = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new LockBackendError(
              `No pooled MySQL connection for lock "${options.key}" (backend "${BACKEND}") within ${Math.round(options.timeoutMs)} ms: ` +
                'the pool is exhausted. Give the lock backend its own DataSource, lower maxConnections, or raise the pool size.',
              { backend: BACKEND, key: options.key, isRetryable: true },
            ),
          ),
        options.timeoutMs,
      );
      onAbort = () => reject(options.signal.reason);
      options.signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      const driver = await Promise.race([connecting, giveUp]);
      return new LockConnection(runner, driver);
    } catch (error) {
      connecting.then(
        () => void runner.release(),
        () => undefined,
      );
      throw error;
    } finally {
      clearTimeout(timer);
      if (onAbort) options.signal.removeEventListener('abort', onAbort);
    }
  }

  /** True once the driver reported the connection closed or broken: its session (and locks) are gone. */
  get gone(): boolean {
    return this.#gone;
  }

  /** Call `listener` once if the session ends while this connection is still ours. */
  onGone(listener: () => void): void {
    this.#onGone = listener;
  }

  /** Run one parameterized statement and return its first row (`{}` when there is none). */
  async selectOne(sql: string, parameters: readonly unknown[]): Promise<Record<string, unknown>> {
    const rows: unknown = await this.#runner.query(sql, [...parameters]);
    const first = Array.isArray(rows) ? rows[0] : undefined;
    return typeof first === 'object' && first !== null ? (first as Record<string, unknown>) : {};
  }

  /** Run one parameterized statement and return the driver's raw result (e.g. `insertId`). */
  async execute(sql: string, parameters: readonly unknown[]): Promise<unknown> {
    return this.#runner.query(sql, [...parameters]);
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
    if (options.destroy || this.tainted || this.#gone) this.#driver.destroy();
    // After destroy() the pool has already forgotten the connection, so release() is a no-op.
    void this.#runner.release();
  }

  readonly #markGone = (): void => {
    if (this.#gone) return;
    this.#gone = true;
    this.#onGone?.();
  };
}
