import type { LockConnection, StatementLimits } from './lock-connection.js';

/**
 * Opt-in fencing tokens: one counter row per lock name, bumped on the holding connection right
 * after `GET_LOCK` succeeds. `LAST_INSERT_ID(expr)` makes the new value come back in the same
 * round trip (as the statement's insert id), and the row update is atomic in InnoDB, so tokens of
 * one name strictly increase across every client and survive restarts.
 *
 * @example
 * const fencing = new FencingCounter('dlock_fencing', true);
 * const token = await fencing.next(connection, name, limits); // 1, 2, 3, ...
 */
export class FencingCounter {
  readonly #table: string;
  readonly #create: boolean;
  #ready: Promise<void> | undefined;

  constructor(table: string, create: boolean) {
    // The name was validated against /^[A-Za-z_][A-Za-z0-9_$]*(\.…)?$/, so quoting cannot be escaped.
    this.#table = table
      .split('.')
      .map((part) => `\`${part}\``)
      .join('.');
    this.#create = create;
  }

  /**
   * The next token for `name`. Must run on the connection holding the lock; `limits` bound each
   * statement (the deadline and action are filled in here).
   */
  async next(
    connection: LockConnection,
    name: string,
    limits: Omit<StatementLimits, 'action'>,
  ): Promise<number> {
    if (this.#create) {
      this.#ready ??= connection
        .execute(
          `CREATE TABLE IF NOT EXISTS ${this.#table} (
             name VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
             token BIGINT UNSIGNED NOT NULL
           ) ENGINE=InnoDB`,
          [],
          // Shared by every caller until it settles: one caller's abort must not fail the others.
          { deadline: limits.deadline, limit: limits.limit, action: 'CREATE TABLE (fencingTable)' },
        )
        .then(
          () => undefined,
          (error: unknown) => {
            this.#ready = undefined;
            throw error;
          },
        );
      await this.#ready;
    }
    const result = await connection.execute(
      `INSERT INTO ${this.#table} (name, token) VALUES (?, LAST_INSERT_ID(1))
       ON DUPLICATE KEY UPDATE token = LAST_INSERT_ID(token + 1)`,
      [name],
      { ...limits, action: 'the fencing token INSERT' },
    );
    const insertId = (result as { insertId?: unknown }).insertId;
    const token = Number(insertId);
    if (!Number.isSafeInteger(token) || token < 1) {
      throw new Error(`fencing counter returned no token (insertId ${String(insertId)})`);
    }
    return token;
  }
}
