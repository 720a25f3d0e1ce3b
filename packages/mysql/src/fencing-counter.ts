import type { LockConnection, StatementLimits } from './lock-connection.js';

/** How long a name's counter row outlives its last acquisition before it may be pruned: 1 hour. */
const DEFAULT_FENCING_ROW_RETENTION_MS = 3_600_000;
/** At most one prune statement per backend in this interval: 1 minute. */
const DEFAULT_FENCING_PRUNE_INTERVAL_MS = 60_000;
/** Rows deleted by one prune statement at most, so it never holds InnoDB locks for long. */
const PRUNE_BATCH = 1_000;

/** The database server's clock in µs since the epoch, in UTC (no session time zone, no DST fold). */
const SERVER_MICROS = "TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', UTC_TIMESTAMP(6))";

/** Tuning of {@link FencingCounter}'s pruning (tests shorten it). */
export interface FencingCounterRetention {
  /** A row not bumped for this long may be deleted. Default {@link DEFAULT_FENCING_ROW_RETENTION_MS}. */
  readonly retentionMs?: number | undefined;
  /** Least time between two prune statements of one backend. Default {@link DEFAULT_FENCING_PRUNE_INTERVAL_MS}. */
  readonly pruneIntervalMs?: number | undefined;
  /** Runs a prune statement on another connection than the lock's (none: no pruning). */
  readonly pruneElsewhere?: ((sql: string, parameters: readonly unknown[]) => Promise<unknown>) | undefined;
}

/**
 * Opt-in fencing tokens, bounded in size: one counter row per lock name, bumped on the holding
 * connection right after `GET_LOCK` succeeds to `max(last + 1, database clock in µs)`.
 * `LAST_INSERT_ID(expr)` makes the new value come back in the same round trip (as the statement's
 * insert id), and the row update is atomic in InnoDB, so tokens of one name strictly increase
 * across every client and survive restarts.
 *
 * Because a token is at least the clock, a row only matters while the clock has not passed it:
 * rows not bumped for `retentionMs` (1 hour) are deleted, at most once a minute, in batches, in the
 * background on another pooled connection (an index on `token` keeps that DELETE short). The next token of a pruned name starts again from the clock,
 * which is past the old one unless the database clock stepped back by more than `retentionMs`.
 * The table therefore holds about one row per name locked in the last hour, not one per name ever
 * locked. Older tables with small tokens (1, 2, 3, ...) keep working: the clock is far above them.
 *
 * @example
 * const fencing = new FencingCounter('dlock_fencing', true);
 * const token = await fencing.next(connection, name, limits); // e.g. 1764410000000123, then higher
 */
export class FencingCounter {
  readonly #table: string;
  readonly #create: boolean;
  readonly #retentionMs: number;
  readonly #pruneIntervalMs: number;
  readonly #pruneElsewhere: FencingCounterRetention['pruneElsewhere'];
  #pruning = false;
  #ready: Promise<void> | undefined;
  #lastPruneAt = Number.NEGATIVE_INFINITY;

  constructor(table: string, create: boolean, retention: FencingCounterRetention = {}) {
    // The name was validated against /^[A-Za-z_][A-Za-z0-9_$]*(\.…)?$/, so quoting cannot be escaped.
    this.#table = table
      .split('.')
      .map((part) => `\`${part}\``)
      .join('.');
    this.#create = create;
    this.#retentionMs = retention.retentionMs ?? DEFAULT_FENCING_ROW_RETENTION_MS;
    this.#pruneIntervalMs = retention.pruneIntervalMs ?? DEFAULT_FENCING_PRUNE_INTERVAL_MS;
    this.#pruneElsewhere = retention.pruneElsewhere;
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
             token BIGINT UNSIGNED NOT NULL,
             KEY dlock_fencing_token (token)
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
      `INSERT INTO ${this.#table} (name, token) VALUES (?, LAST_INSERT_ID(${SERVER_MICROS}))
       ON DUPLICATE KEY UPDATE token = LAST_INSERT_ID(GREATEST(token + 1, ${SERVER_MICROS}))`,
      [name],
      { ...limits, action: 'the fencing token INSERT' },
    );
    const insertId = (result as { insertId?: unknown }).insertId;
    const token = Number(insertId);
    if (!Number.isSafeInteger(token) || token < 1) {
      throw new Error(`fencing counter returned no token (insertId ${String(insertId)})`);
    }
    this.#pruneIfDue();
    return token;
  }

  /**
   * Delete rows not bumped for retentionMs, at most once per pruneIntervalMs, in the background on
   * another connection: it never delays or fails an acquisition, and a slow DELETE can never end
   * the session that holds a lock.
   */
  #pruneIfDue(): void {
    const now = Date.now();
    if (!this.#pruneElsewhere || this.#pruning || now - this.#lastPruneAt < this.#pruneIntervalMs) return;
    this.#lastPruneAt = now;
    this.#pruning = true;
    this.#pruneElsewhere(
      `DELETE FROM ${this.#table} WHERE token < ${SERVER_MICROS} - ? LIMIT ${PRUNE_BATCH}`,
      [Math.round(this.#retentionMs * 1000)],
    )
      .then(
        (result) => {
          // A full batch: more idle rows are likely left (a backlog, e.g. after an upgrade from a
          // table that was never pruned): prune again at the next acquisition, not a minute later.
          if ((result as { affectedRows?: number } | undefined)?.affectedRows === PRUNE_BATCH) {
            this.#lastPruneAt = Number.NEGATIVE_INFINITY;
          }
        },
        () => undefined,
      )
      .finally(() => {
        this.#pruning = false;
      });
  }
}
