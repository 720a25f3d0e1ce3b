import { assertDuration, InvalidLockOptionsError } from '@dlock/core';

export const BACKEND = 'mysql';

/** Options of {@link MySqlNamedLockBackend}. Every one is checked in the constructor, before any query. */
export interface MySqlNamedLockBackendOptions {
  /** Prepended to every key before it becomes a lock name (it is part of the digest too). Default `"dlock:"`. */
  readonly keyPrefix?: string | undefined;
  /**
   * Most pooled connections this backend holds at once: one per held lock plus one per caller
   * waiting inside `GET_LOCK`. Further callers wait locally (within their `waitMs`) for a slot.
   * Default: the DataSource's pool size minus one, so at least one connection stays free for the
   * work inside the lock (and for `KILL QUERY` when a wait is cancelled).
   */
  readonly maxConnections?: number | undefined;
  /**
   * How long to wait for the pool to hand out a connection (an idle one, or a new one it opens)
   * before failing. Independent of the caller's `waitMs`, which bounds waiting for the lock, not
   * for TCP and the handshake. Default 5000 ms.
   */
  readonly connectionTimeoutMs?: number | undefined;
  /**
   * Longest wait for the server's answer to one statement (for a `GET_LOCK` slice: the slice plus
   * this). When it passes, the statement's connection is destroyed (the server drops that
   * session's named locks once it notices) and the call rejects with a retryable
   * `LockBackendError`; a held lock whose renewal timed out counts as lost. Default 5000 ms.
   */
  readonly commandTimeoutMs?: number | undefined;
  /**
   * Longest single `GET_LOCK` call while waiting. Between two slices the backend checks the
   * deadline and the caller's signal; a cancelled wait is interrupted at once with `KILL QUERY`
   * when a pooled connection is free, otherwise at the end of the slice. Default 2000 ms.
   */
  readonly waitSliceMs?: number | undefined;
  /**
   * Whether `GET_LOCK` takes fractional-second timeouts. Default: detected from `VERSION()` on the
   * first attempt (MariaDB: yes, MySQL: no). With whole seconds, a slice that would end after the
   * deadline is interrupted at the deadline. Set `false` behind a proxy that hides the version.
   */
  readonly fractionalTimeouts?: boolean | undefined;
  /**
   * Opt-in fencing tokens: the name of a table (`name` or `schema.name`) holding one counter row
   * per lock name. Each acquisition costs one extra round trip (`INSERT … ON DUPLICATE KEY UPDATE`
   * on the holding connection). Default: no fencing tokens.
   */
  readonly fencingTable?: string | undefined;
  /** Create `fencingTable` with `CREATE TABLE IF NOT EXISTS` on first use. Default true. */
  readonly createFencingTable?: boolean | undefined;
}

export interface ResolvedMySqlLockOptions {
  readonly keyPrefix: string;
  readonly maxConnections: number;
  readonly connectionTimeoutMs: number;
  readonly commandTimeoutMs: number;
  /** How late past a waiting caller's deadline an answer may come: `min(commandTimeoutMs, 250)`. */
  readonly replyGraceMs: number;
  readonly waitSliceMs: number;
  readonly fractionalTimeouts: boolean | undefined;
  readonly fencingTable: string | undefined;
  readonly createFencingTable: boolean;
}

/** The default prefix of every lock name this backend sends to the server. */
export const DEFAULT_KEY_PREFIX = 'dlock:';
const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_$]{0,63}(\.[A-Za-z_][A-Za-z0-9_$]{0,63})?$/;
const MAX_KEY_PREFIX_LENGTH = 256;
/**
 * A waiting caller's last `GET_LOCK` slice ends at its deadline on the server; its answer is given
 * this long to arrive before the connection is treated as silent. Generous for a round trip, small
 * next to any `waitMs` worth setting.
 */
const REPLY_GRACE_MS = 250;

/**
 * Validate user options and fill in defaults.
 *
 * @throws InvalidLockOptionsError naming the option.
 * @example
 * resolveMySqlLockOptions({ keyPrefix: 'app:' }, 10); // { maxConnections: 9, ... }
 */
export function resolveMySqlLockOptions(
  options: MySqlNamedLockBackendOptions,
  poolSize: number,
): ResolvedMySqlLockOptions {
  if (typeof options !== 'object' || options === null) {
    throw invalid(`options must be an object (got ${String(options)}).`);
  }
  const keyPrefix = options.keyPrefix ?? DEFAULT_KEY_PREFIX;
  if (
    typeof keyPrefix !== 'string' ||
    keyPrefix.length > MAX_KEY_PREFIX_LENGTH ||
    [...keyPrefix].some((character) => character.charCodeAt(0) < 0x20)
  ) {
    throw invalid(
      `keyPrefix must be a string of at most ${MAX_KEY_PREFIX_LENGTH} characters without control characters.`,
    );
  }
  const maxConnections = options.maxConnections ?? Math.max(1, poolSize - 1);
  if (!Number.isSafeInteger(maxConnections) || maxConnections < 1) {
    throw invalid(`maxConnections must be a positive integer (got ${String(maxConnections)}).`);
  }
  const connectionTimeoutMs = assertDuration('connectionTimeoutMs', options.connectionTimeoutMs ?? 5_000, {
    backend: BACKEND,
  });
  const commandTimeoutMs = assertDuration('commandTimeoutMs', options.commandTimeoutMs ?? 5_000, {
    backend: BACKEND,
  });
  const waitSliceMs = assertDuration('waitSliceMs', options.waitSliceMs ?? 2_000, { backend: BACKEND });
  const fractionalTimeouts = options.fractionalTimeouts;
  if (fractionalTimeouts !== undefined && typeof fractionalTimeouts !== 'boolean') {
    throw invalid('fractionalTimeouts must be a boolean or left out (auto-detect).');
  }
  const fencingTable = options.fencingTable;
  if (fencingTable !== undefined && (typeof fencingTable !== 'string' || !TABLE_NAME.test(fencingTable))) {
    throw invalid(
      `fencingTable must be a plain table name like "dlock_fencing" or "schema.dlock_fencing" (got ${JSON.stringify(fencingTable)}).`,
    );
  }
  const createFencingTable = options.createFencingTable ?? true;
  if (typeof createFencingTable !== 'boolean') throw invalid('createFencingTable must be a boolean.');
  return {
    keyPrefix,
    maxConnections,
    connectionTimeoutMs,
    commandTimeoutMs,
    replyGraceMs: Math.min(commandTimeoutMs, REPLY_GRACE_MS),
    waitSliceMs,
    fractionalTimeouts,
    fencingTable,
    createFencingTable,
  };
}

/**
 * An options error that names the backend.
 *
 * @example
 * throw invalid('waitSliceMs must be positive.');
 */
export function invalid(message: string): InvalidLockOptionsError {
  return new InvalidLockOptionsError(`${BACKEND}: ${message}`, { backend: BACKEND });
}
