import { hostname } from 'node:os';
import { basename } from 'node:path';
import { LockError } from './errors.js';

/**
 * Who asked for a lock, as the manager hands it to the backend with every acquisition
 * ({@link BackendAcquireRequest.owner}) for the backend to record beside the lock.
 *
 * @example
 * const owner: LockOwnerRecord = { host: 'web-1', pid: 4242, appName: 'shop', label: 'StockService.decrease' };
 */
export interface LockOwnerRecord {
  /** `os.hostname()` of the holding process. */
  readonly host: string;
  /** `process.pid` of the holding process. */
  readonly pid: number;
  /** The manager's `appName` option. */
  readonly appName: string;
  /** The call's `label`: `Class.method` for decorated methods, or the `label` option of `withLock`. */
  readonly label?: string | undefined;
}

/**
 * Who holds a lock, as far as its store can tell: the {@link LockOwnerRecord} the holder recorded,
 * when it was taken, and, on MySQL, the database session holding it.
 *
 * @example
 * const { owner } = await manager.inspect('stock:42');
 * console.log(`${owner?.appName} pid ${owner?.pid} on ${owner?.host} (${owner?.label})`);
 */
export interface LockOwner {
  /** Host name of the holder. `undefined` when the store does not know it (MySQL without an owners table). */
  readonly host?: string | undefined;
  /** Process id of the holder. */
  readonly pid?: number | undefined;
  /** `appName` of the holder's manager. */
  readonly appName?: string | undefined;
  /** Label of the holding call (`Class.method` for decorated methods). */
  readonly label?: string | undefined;
  /** Epoch ms at which the lock was taken (by the store's clock where it has one). */
  readonly acquiredAt?: number | undefined;
  /** Epoch ms (local clock) at which the lease ends unless renewed: now + `leaseRemainingMs`. */
  readonly leaseEndsAt?: number | undefined;
  /** MySQL only: the database session (connection) that holds the named lock. */
  readonly session?: LockOwnerSession | undefined;
}

/** The database session holding a MySQL named lock (`IS_USED_LOCK` and the process list). */
export interface LockOwnerSession {
  /** `CONNECTION_ID()` of the holding session; `KILL` it to free the lock. */
  readonly connectionId: number;
  /** Client address of the session (`host:port`), from the process list. */
  readonly clientAddress?: string | undefined;
  /** Database user of the session. */
  readonly user?: string | undefined;
  /** Seconds the session has been in its current state (idle while it holds the lock). */
  readonly stateSeconds?: number | undefined;
}

/**
 * What a backend knows about one lock ({@link LockBackend.inspect}), keyed as the backend was asked
 * (with the manager's `keyPrefix`, without the backend's own prefix).
 *
 * @example
 * const state: BackendLockState = { key: 'shop:stock:42', held: true, leaseRemainingMs: 900, fencingToken: 7, waiters: 2 };
 */
export interface BackendLockState {
  /** The key, as given to `acquire` (manager prefix included). */
  readonly key: string;
  /** Whether someone holds the lock now. */
  readonly held: boolean;
  /** The holder, when held and known. */
  readonly owner?: LockOwner | undefined;
  /** Milliseconds until the lease ends unless renewed; `undefined` when free or unknown. */
  readonly leaseRemainingMs?: number | undefined;
  /** The fencing token of the current (or, when free, last) holder, when the store has one. */
  readonly fencingToken?: number | undefined;
  /** Callers queued or blocked waiting for the lock in the store, when the store can count them. */
  readonly waiters?: number | undefined;
}

/** What {@link LockBackend.list} is asked: keys starting with `prefix` (manager prefix included), at most `limit`. */
export interface BackendListRequest {
  /** Only keys starting with this (the manager's `keyPrefix` already applied). */
  readonly prefix: string;
  /** At most this many entries (positive integer). */
  readonly limit: number;
}

/** What a forced release did ({@link LockBackend.forceRelease}). */
export interface BackendForceReleaseResult {
  /** Whether a holder was removed (false: the lock was already free). */
  readonly released: boolean;
  /** Who held it, when known. */
  readonly previousOwner?: LockOwner | undefined;
  /** The removed holder's fencing token; every later holder gets a greater one. */
  readonly previousFencingToken?: number | undefined;
}

/**
 * What {@link LockManager.inspect} answers for one key: whether it is held, by whom, for how much
 * longer, with which fencing token, and how many callers wait in the store. Fields a backend cannot
 * tell are `undefined` (see the table in the core README).
 *
 * @example
 * const lock = await manager.inspect('stock:42');
 * if (lock.held) console.log(lock.owner?.host, lock.leaseRemainingMs, lock.waiters);
 */
export interface LockInspection {
  /** The key as users pass it to `withLock` or the decorator (without any prefix). */
  readonly key: string;
  /** The manager's name of the backend asked. */
  readonly backend: string;
  /** Whether someone holds the lock now. */
  readonly held: boolean;
  /** The holder, when held and known. */
  readonly owner?: LockOwner | undefined;
  /** Milliseconds until the lease ends unless renewed; `undefined` when free or unknown. */
  readonly leaseRemainingMs: number | undefined;
  /** Fencing token of the holder (or the last one), when the store has one. */
  readonly fencingToken: number | undefined;
  /** Callers waiting in the store (other processes' waiters included), when countable. */
  readonly waiters: number | undefined;
}

/** Options of {@link LockManager.inspect}. */
export interface InspectOptions<B extends string = string> {
  /** Backend to ask. Default: the first of the manager's backends that can inspect. */
  readonly backend?: B | undefined;
}

/** Options of {@link LockManager.list}. */
export interface ListLocksOptions<B extends string = string> extends InspectOptions<B> {
  /** Only keys starting with this (as users write keys, without the manager's `keyPrefix`). Default `""`. */
  readonly prefix?: string | undefined;
  /** At most this many locks (the store is scanned in bounded steps). Default 100, at most 10,000. */
  readonly limit?: number | undefined;
}

/** Options of {@link LockManager.forceRelease}. */
export type ForceReleaseOptions<B extends string = string> = InspectOptions<B>;

/** What {@link LockManager.forceRelease} did. */
export interface ForceReleaseResult {
  /** The key, as users write it. */
  readonly key: string;
  /** The manager's name of the backend asked. */
  readonly backend: string;
  /** Whether a holder was removed (false: the lock was already free). */
  readonly released: boolean;
  /** Who held it, when known. */
  readonly previousOwner?: LockOwner | undefined;
  /** The removed holder's fencing token; every later holder gets a greater one. */
  readonly previousFencingToken?: number | undefined;
}

/** The optional backend capabilities behind {@link LockManager.inspect}, `list` and `forceRelease`. */
export type LockInspectionCapability = 'inspect' | 'list' | 'forceRelease';

/**
 * The backend cannot answer this question: it does not implement the optional capability
 * (`inspect`, `list` or `forceRelease`) of {@link LockBackend}, or, for MySQL `list`, was made
 * without an owners table. The message names the manager's backends that can.
 *
 * @example
 * if (LockInspectionUnsupportedError.isInstance(error)) console.error(error.capability, error.supportedBy);
 */
export class LockInspectionUnsupportedError extends LockError {
  override readonly name = 'LockInspectionUnsupportedError';
  /** The capability the backend lacks. */
  readonly capability: LockInspectionCapability;
  /** Names of this manager's backends that have it. */
  readonly supportedBy: readonly string[];
  constructor(options: {
    capability: LockInspectionCapability;
    backend: string;
    key?: string | undefined;
    supportedBy: readonly string[];
    hint?: string | undefined;
  }) {
    const others =
      options.supportedBy.length > 0
        ? `this manager's backends that do: ${options.supportedBy.map((name) => `"${name}"`).join(', ')}; pass backend: to choose one`
        : "none of this manager's backends do";
    super(
      'LOCK_INSPECTION_UNSUPPORTED',
      `Backend "${options.backend}" does not support ${options.capability}()` +
        `${options.hint ? ` (${options.hint})` : ''}; ${others}.`,
      { key: options.key, backend: options.backend },
    );
    this.capability = options.capability;
    this.supportedBy = options.supportedBy;
  }
  static override isInstance(value: unknown): value is LockInspectionUnsupportedError {
    return LockError.isInstance(value) && value.code === 'LOCK_INSPECTION_UNSUPPORTED';
  }
}

/**
 * The app name a manager records when its `appName` option is left out: the `npm_package_name`
 * environment variable (set by `npm run`/`pnpm run`), else the entry script's file name without its
 * extension, else `process.title`.
 *
 * @example
 * defaultAppName(); // "express-stock"
 */
export function defaultAppName(): string {
  const fromPackage = process.env.npm_package_name;
  if (fromPackage) return fromPackage;
  const entry = process.argv[1];
  if (entry) return basename(entry).replace(/\.[cm]?[jt]s$/, '');
  return process.title;
}

/**
 * The {@link LockOwnerRecord} of this process for `appName` (host and pid filled in).
 *
 * @example
 * processLockOwner('shop'); // { host: 'web-1', pid: 4242, appName: 'shop' }
 */
export function processLockOwner(appName: string): LockOwnerRecord {
  return Object.freeze({ host: hostname(), pid: process.pid, appName });
}
