import { waitOrAbort } from '@dlock/core';
import type { DataSource } from 'typeorm';
import { createFencingTableSql, FencingTableSetup } from './fencing-table.js';
import type { LockConnection, StatementLimits } from './lock-connection.js';
import type { ResolvedMySqlLockOptions } from './mysql-lock-options.js';
import { runOnSpareConnection } from './spare-connection.js';

/** How long a name's counter row outlives its last acquisition before it may be pruned: 1 hour. */
const DEFAULT_FENCING_ROW_RETENTION_MS = 3_600_000;
/** At most one prune statement per backend in this interval: 1 minute. */
const DEFAULT_FENCING_PRUNE_INTERVAL_MS = 60_000;
/** Rows deleted by one prune statement at most, so it never holds InnoDB locks for long. */
const PRUNE_BATCH = 1_000;

/** The database server's clock in µs since the epoch, in UTC (no session time zone, no DST fold). */
const SERVER_MICROS = "TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', UTC_TIMESTAMP(6))";

/** Where {@link FencingCounter} runs its work off the lock session, and the tuning of its pruning. */
export interface FencingCounterOptions {
  /** A row not bumped for this long may be deleted. Default {@link DEFAULT_FENCING_ROW_RETENTION_MS}. */
  readonly retentionMs?: number | undefined;
  /** Least time between two prune statements of one backend. Default {@link DEFAULT_FENCING_PRUNE_INTERVAL_MS}. */
  readonly pruneIntervalMs?: number | undefined;
  /** Runs a prune statement on another connection than the lock's (none: no pruning). */
  readonly pruneElsewhere?: ((sql: string, parameters: readonly unknown[]) => Promise<unknown>) | undefined;
  /**
   * Runs the `CREATE TABLE IF NOT EXISTS` statement on another connection than the lock's, within
   * `createWithinMs` (none: the table must exist already).
   */
  readonly createElsewhere?: ((sql: string) => Promise<unknown>) | undefined;
  /** The most `createElsewhere` can take. */
  readonly createWithinMs?: number | undefined;
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
 * const fencing = new FencingCounter('dlock_fencing', { createElsewhere, createWithinMs: 10_000 });
 * await fencing.ready(signal); // before GET_LOCK
 * const token = await fencing.next(connection, name, limits); // e.g. 1764410000000123, then higher
 */
export class FencingCounter {
  readonly #table: string;
  readonly #setup: FencingTableSetup | undefined;
  readonly #retentionMs: number;
  readonly #pruneIntervalMs: number;
  readonly #pruneElsewhere: FencingCounterOptions['pruneElsewhere'];
  #pruning = false;
  #lastPruneAt = Number.NEGATIVE_INFINITY;

  constructor(table: string, options: FencingCounterOptions = {}) {
    // The name was validated against /^[A-Za-z_][A-Za-z0-9_$]*(\.…)?$/, so quoting cannot be escaped.
    this.#table = table
      .split('.')
      .map((part) => `\`${part}\``)
      .join('.');
    const { createElsewhere } = options;
    const sql = createFencingTableSql(this.#table);
    this.#setup = createElsewhere
      ? new FencingTableSetup(() => createElsewhere(sql), options.createWithinMs ?? Number.MAX_SAFE_INTEGER)
      : undefined;
    this.#retentionMs = options.retentionMs ?? DEFAULT_FENCING_ROW_RETENTION_MS;
    this.#pruneIntervalMs = options.pruneIntervalMs ?? DEFAULT_FENCING_PRUNE_INTERVAL_MS;
    this.#pruneElsewhere = options.pruneElsewhere;
  }

  /**
   * Resolves once the table exists (created on first use when the backend creates it). Call it
   * before taking the lock: the creation never runs on the lock's session or under its deadline.
   */
  ready(signal: AbortSignal): Promise<void> {
    return this.#setup ? this.#setup.ready(signal) : Promise.resolve();
  }

  /**
   * The next token for `name`, once {@link ready} resolved. Must run on the connection holding the
   * lock; `limits` bound the statement (the action is filled in here).
   */
  async next(
    connection: LockConnection,
    name: string,
    limits: Omit<StatementLimits, 'action'>,
  ): Promise<number> {
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

/**
 * The fencing counter of a backend with `fencingTable` set (none without), doing its table
 * creation and pruning on pooled connections of their own, bounded by the backend's timeouts.
 *
 * @example
 * const fencing = backendFencingCounter(dataSource, resolveMySqlLockOptions({ fencingTable: 'dlock_fencing' }, 10));
 */
export function backendFencingCounter(
  dataSource: DataSource,
  options: ResolvedMySqlLockOptions,
): FencingCounter | undefined {
  const { fencingTable, connectionTimeoutMs, commandTimeoutMs } = options;
  if (fencingTable === undefined) return undefined;
  return new FencingCounter(fencingTable, {
    // Pruning runs on another pooled connection, in the background: never on the session that
    // holds a lock, never inside an acquisition's deadline.
    pruneElsewhere: (sql, parameters) =>
      waitOrAbort(dataSource.query(sql, [...parameters]), {
        timeoutMs: commandTimeoutMs,
        timeoutError: () => new Error('fencing table prune did not answer in time'),
      }),
    createElsewhere: options.createFencingTable
      ? (sql) =>
          runOnSpareConnection(
            { dataSource, connectionTimeoutMs, commandTimeoutMs },
            {
              label: `(fencing table ${fencingTable})`,
              sql,
              parameters: [],
              action: 'CREATE TABLE (fencingTable)',
            },
          )
      : undefined,
    createWithinMs: connectionTimeoutMs + commandTimeoutMs,
  });
}
