import { type BackendForceReleaseResult, type BackendLockState, type LockOwner } from '@dlock/core';
import type { DataSource } from 'typeorm';

interface ProcessRow {
  readonly ID?: unknown;
  readonly USER?: unknown;
  readonly HOST?: unknown;
  readonly TIME?: unknown;
}

/**
 * What MySQL itself can tell about a named lock, read from any pooled connection:
 * `IS_USED_LOCK(name)` gives the holding session, the process list its client address, user and
 * idle time, and the sessions blocked in `GET_LOCK` on the name ("User lock") are the waiters.
 * The lease is enforced by the holder's process, not by the server, so it is not visible here;
 * the fencing token is read from the `fencingTable` when the backend has one.
 *
 * Seeing other users' sessions in the process list needs the `PROCESS` privilege; `KILL` of
 * another user's session (force release) needs `CONNECTION_ADMIN` / `SUPER`.
 */
export class MySqlLockInspector {
  readonly #dataSource: DataSource;
  readonly #lockNameOf: (key: string) => string;
  readonly #fencingTable: string | undefined;

  constructor(options: {
    readonly dataSource: DataSource;
    readonly lockNameOf: (key: string) => string;
    readonly fencingTable: string | undefined;
  }) {
    this.#dataSource = options.dataSource;
    this.#lockNameOf = options.lockNameOf;
    this.#fencingTable = options.fencingTable
      ?.split('.')
      .map((part) => `\`${part}\``)
      .join('.');
  }

  async inspect(key: string): Promise<BackendLockState> {
    const name = this.#lockNameOf(key);
    const [row] = (await this.#dataSource.query(
      `SELECT IS_USED_LOCK(?) AS holder,
              (SELECT COUNT(*) FROM information_schema.PROCESSLIST
                WHERE STATE = 'User lock' AND INFO LIKE ?) AS waiters`,
      [name, `%${likeEscape(name)}%`],
    )) as { holder: unknown; waiters: unknown }[];
    const holder = row?.holder == null ? undefined : Number(row.holder);
    const waiters = Number(row?.waiters ?? 0);
    const fencingToken = await this.#lastFence(name);
    if (holder === undefined) return { key, held: false, fencingToken, waiters };
    return { key, held: true, owner: await this.#session(holder), fencingToken, waiters };
  }

  /**
   * `KILL` the session holding `key`: the server frees the lock at once and the holder's next
   * statement (its renewal check) reports it lost. A fencing token, if enabled, only grows.
   */
  async forceRelease(key: string): Promise<BackendForceReleaseResult> {
    const before = await this.inspect(key);
    const connectionId = before.owner?.session?.connectionId;
    if (!before.held || connectionId === undefined) return { released: false };
    await this.#dataSource.query('KILL ?', [connectionId]);
    return { released: true, previousOwner: before.owner, previousFencingToken: before.fencingToken };
  }

  async #session(connectionId: number): Promise<LockOwner> {
    const [process] = (await this.#dataSource.query(
      'SELECT ID, USER, HOST, TIME FROM information_schema.PROCESSLIST WHERE ID = ?',
      [connectionId],
    )) as ProcessRow[];
    const clientAddress = typeof process?.HOST === 'string' ? process.HOST : undefined;
    return {
      host: clientAddress?.replace(/:\d+$/, ''),
      session: {
        connectionId,
        clientAddress,
        user: typeof process?.USER === 'string' ? process.USER : undefined,
        stateSeconds: process?.TIME == null ? undefined : Number(process.TIME),
      },
    };
  }

  async #lastFence(name: string): Promise<number | undefined> {
    if (!this.#fencingTable) return undefined;
    try {
      const [row] = (await this.#dataSource.query(`SELECT token FROM ${this.#fencingTable} WHERE name = ?`, [
        name,
      ])) as { token: unknown }[];
      return row ? Number(row.token) : undefined;
    } catch {
      return undefined; // not created yet
    }
  }
}

function likeEscape(text: string): string {
  return text.replace(/[\\%_]/g, (char) => `\\${char}`);
}
