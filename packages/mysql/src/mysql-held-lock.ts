import { assertDuration, type BackendLock, LockError } from '@dlock/core';
import type { LockConnection, StatementLimits } from './lock-connection.js';
import { isConnectionGone, toMySqlBackendError } from './mysql-backend-error.js';
import { BACKEND } from './mysql-lock-options.js';

type HeldState = 'held' | 'released' | 'expired' | 'lost';

export interface MySqlHeldLockInit {
  readonly connection: LockConnection;
  readonly name: string;
  readonly key: string;
  readonly leaseMs: number;
  /** When the successful `GET_LOCK` answered: the lease (ours, not the server's) starts here. */
  readonly acquiredAt: number;
  readonly fencingToken: number | undefined;
  /** Longest wait for the answer to `extend`'s and `release`'s statement. */
  readonly commandTimeoutMs: number;
  /** Called once when the connection has left the lock (released, expired, lost or closed). */
  readonly onSettled: () => void;
}

/**
 * A named lock held by one session. MySQL named locks have no TTL, so the lease is enforced here:
 * when it runs out without `extend`, the lock is released on its connection (exactly what a Redis
 * key expiry would do), and this holder's `extend`/`release` report `false` from then on.
 *
 * @example
 * const lock = new MySqlHeldLock({ connection, name, key, leaseMs, acquiredAt, fencingToken, commandTimeoutMs, onSettled });
 * await lock.extend(30_000); // true while the session lives and holds the lock
 */
export class MySqlHeldLock implements BackendLock {
  readonly fencingToken: number | undefined;
  readonly expiresAt: number;
  readonly #init: MySqlHeldLockInit;
  readonly #lost = new AbortController();
  #state: HeldState = 'held';
  #leaseTimer: NodeJS.Timeout | undefined;
  #settled = false;

  constructor(init: MySqlHeldLockInit) {
    this.#init = init;
    this.fencingToken = init.fencingToken;
    this.expiresAt = init.acquiredAt + init.leaseMs;
    this.#armLease(this.expiresAt - Date.now());
    // A killed or broken session has already lost the lock on the server: stop believing we hold it.
    init.connection.onGone(() => this.#lose());
  }

  /** Aborts when the holding session is found dead, so the manager reports the loss at once. */
  get lostSignal(): AbortSignal {
    return this.#lost.signal;
  }

  async extend(leaseMs: number): Promise<boolean> {
    // A lease Node cannot time would fire after 1 ms and release the lock under its holder.
    assertDuration('leaseMs', leaseMs, { backend: BACKEND });
    if (this.#state !== 'held') return false;
    const { connection, name, key } = this.#init;
    let ours: boolean;
    try {
      // Run on the holding session: the lock can only be gone if that session ended or released it.
      const row = await connection.selectOne(
        'SELECT IS_USED_LOCK(?) = CONNECTION_ID() AS ours',
        [name],
        this.#limits('IS_USED_LOCK (extend)'),
      );
      ours = Number(row.ours) === 1;
    } catch (error) {
      // No answer in time: the connection was destroyed (so the lock counts as lost here), but the
      // caller must hear that the store did not answer, not that someone else took the lock.
      if (LockError.isInstance(error)) throw error;
      if (this.#state !== 'held') return false;
      if (isConnectionGone(error)) {
        this.#lose();
        return false;
      }
      throw toMySqlBackendError(error, { key, action: 'extending' });
    }
    if (this.#state !== 'held') return false;
    if (!ours) {
      this.#lose();
      return false;
    }
    // Armed from the answer, never earlier than the caller's own `sentAt + leaseMs`.
    this.#armLease(leaseMs);
    return true;
  }

  async release(): Promise<boolean> {
    if (this.#state !== 'held') return false;
    this.#state = 'released';
    clearTimeout(this.#leaseTimer);
    const { connection, name, key } = this.#init;
    let released: boolean;
    try {
      const row = await connection.selectOne(
        'SELECT RELEASE_LOCK(?) AS released',
        [name],
        this.#limits('RELEASE_LOCK'),
      );
      // 1 only when this session held it; 0 (someone else's) or NULL (nobody's) never count as a release.
      released = Number(row.released) === 1;
    } catch (error) {
      // Destroying the connection ends the session, so the server drops the lock if it still has it.
      this.#settle(true);
      if (isConnectionGone(error)) return false;
      throw toMySqlBackendError(error, { key, action: 'releasing' });
    }
    this.#settle(!released);
    return released;
  }

  /**
   * Release because the backend is closing; the holder's later calls report the lock as gone.
   * Waits for the server at most `timeoutMs`, then destroys the connection instead.
   */
  async abandon(timeoutMs: number): Promise<void> {
    if (this.#state !== 'held') return;
    await this.#releaseInBackground('lost', timeoutMs);
  }

  #armLease(delayMs: number): void {
    clearTimeout(this.#leaseTimer);
    this.#leaseTimer = setTimeout(() => void this.#releaseInBackground('expired'), Math.max(0, delayMs));
    // The critical section keeps the process alive, not lease bookkeeping.
    this.#leaseTimer.unref();
  }

  /** Never rejects: used from timers and close(). */
  async #releaseInBackground(state: HeldState, timeoutMs = this.#init.commandTimeoutMs): Promise<void> {
    if (this.#state !== 'held') return;
    this.#state = state;
    clearTimeout(this.#leaseTimer);
    try {
      const row = await this.#init.connection.selectOne(
        'SELECT RELEASE_LOCK(?) AS released',
        [this.#init.name],
        this.#limits('RELEASE_LOCK', timeoutMs),
      );
      this.#settle(Number(row.released) !== 1);
    } catch {
      this.#settle(true);
    }
  }

  #limits(action: string, timeoutMs = this.#init.commandTimeoutMs): StatementLimits {
    return { deadline: Date.now() + timeoutMs, limit: `commandTimeoutMs (${timeoutMs} ms)`, action };
  }

  #lose(): void {
    if (this.#state !== 'held') return;
    this.#state = 'lost';
    clearTimeout(this.#leaseTimer);
    this.#settle(true);
    this.#lost.abort();
  }

  #settle(destroy: boolean): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#init.connection.close({ destroy });
    this.#init.onSettled();
  }
}
