import type { DataSource } from 'typeorm';
import { LockConnection } from './lock-connection.js';

const NEVER = new AbortController().signal;

/** Where {@link runOnSpareConnection} gets its connection and how long it may take. */
export interface SpareConnectionOptions {
  readonly dataSource: DataSource;
  /** Bounds the wait for the pool. */
  readonly connectionTimeoutMs: number;
  /** Bounds the statement: no answer by then destroys the connection. */
  readonly commandTimeoutMs: number;
}

/**
 * Run one statement on a pooled connection of its own, outside the backend's slots: the spare
 * connection `maxConnections` leaves in the pool. Both its wait for the pool and its statement are
 * bounded, so a server that cannot be reached costs at most `connectionTimeoutMs` +
 * `commandTimeoutMs`. No caller's signal or deadline applies: its work is not one caller's.
 *
 * @example
 * await runOnSpareConnection(options, { label: '(KILL QUERY 42)', sql: 'KILL QUERY ?', parameters: [42], action: 'KILL QUERY' });
 */
export async function runOnSpareConnection(
  options: SpareConnectionOptions,
  statement: {
    /** Stands in for the lock key in error messages, e.g. `"(KILL 42)"`. */
    readonly label: string;
    readonly sql: string;
    readonly parameters: readonly unknown[];
    /** What the statement does, for the error message. */
    readonly action: string;
  },
): Promise<unknown> {
  let connection: LockConnection | undefined;
  try {
    connection = await LockConnection.open({
      dataSource: options.dataSource,
      key: statement.label,
      timeoutMs: options.connectionTimeoutMs,
      signal: NEVER,
    });
    return await connection.execute(statement.sql, statement.parameters, {
      deadline: Date.now() + options.commandTimeoutMs,
      limit: `commandTimeoutMs (${options.commandTimeoutMs} ms)`,
      action: statement.action,
    });
  } finally {
    connection?.close({ destroy: false });
  }
}
