import { LockBackendError, waitOrAbort } from '@dlock/core';
import { BACKEND } from './mysql-lock-options.js';

/**
 * `CREATE TABLE IF NOT EXISTS` of the fencing table, run once per backend before its first fenced
 * acquisition. It runs on a connection of its own, never on a
 * caller's lock session and never under a caller's deadline: a DDL statement can wait for a
 * metadata lock far longer than a short `waitMs`, and one caller giving up must not fail the
 * others. Concurrent first callers share the one statement; a failure is not remembered, so the
 * next acquisition tries again.
 *
 * @example
 * const table = new FencingTableSetup(() => dataSource.query(createFencingTableSql('`dlock_fencing`')), 10_000);
 * await table.ready(signal); // then take the lock and bump the counter
 */
export class FencingTableSetup {
  readonly #create: () => Promise<unknown>;
  readonly #boundMs: number;
  #created = false;
  #creating: Promise<void> | undefined;

  /**
   * @param create runs the `CREATE TABLE` statement, bounded by its own timeouts.
   * @param boundMs how long `create` can take at most: a backstop for a caller still waiting then.
   */
  constructor(create: () => Promise<unknown>, boundMs: number) {
    this.#create = create;
    this.#boundMs = boundMs;
  }

  /**
   * Resolves once the table exists. Rejects with the creation's error, or with `signal`'s reason
   * when it aborts first (the creation goes on for the other callers).
   */
  ready(signal: AbortSignal): Promise<void> {
    if (this.#created) return Promise.resolve();
    this.#creating ??= this.#create().then(
      () => {
        this.#created = true;
      },
      (error: unknown) => {
        this.#creating = undefined;
        throw error;
      },
    );
    return waitOrAbort(this.#creating, {
      signal,
      timeoutMs: this.#boundMs,
      timeoutError: () =>
        new LockBackendError(
          `Creating the fencing table (backend "${BACKEND}") did not finish within ${this.#boundMs} ms ` +
            '(connectionTimeoutMs + commandTimeoutMs).',
          { backend: BACKEND, isRetryable: true },
        ),
    });
  }
}

/**
 * The statement that creates the fencing table `table` (already quoted) when it does not exist.
 *
 * @example
 * createFencingTableSql('`dlock_fencing`');
 */
export function createFencingTableSql(table: string): string {
  return `CREATE TABLE IF NOT EXISTS ${table} (
             name VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
             token BIGINT UNSIGNED NOT NULL,
             KEY dlock_fencing_token (token)
           ) ENGINE=InnoDB`;
}
