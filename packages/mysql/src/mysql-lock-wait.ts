import type { LockConnection } from './lock-connection.js';
import { getLockReturnedNull, isConnectionGone } from './mysql-backend-error.js';

export interface WaitForNamedLockOptions {
  readonly connection: LockConnection;
  readonly name: string;
  readonly key: string;
  /** Epoch ms when waiting ends. */
  readonly deadline: number;
  readonly sliceMs: number;
  /** MariaDB takes fractional `GET_LOCK` timeouts; MySQL only whole seconds. */
  readonly fractionalTimeouts: boolean;
  readonly signal: AbortSignal;
  /** Cut the session's running `GET_LOCK` short (`KILL QUERY` from another connection). Never rejects. */
  readonly interrupt: (connectionId: number) => Promise<void>;
}

/**
 * Wait for a named lock on the caller's connection in slices of at most `sliceMs`. The server
 * wakes a `GET_LOCK` the moment the lock is released, so slices cost nothing in hand-off latency;
 * they exist so the deadline and the signal are checked in between. On MySQL, whose timeouts are
 * whole seconds, a slice that would run past the deadline is interrupted at the deadline, so
 * `waitMs` holds to the millisecond on both servers.
 *
 * Resolves `true` when the lock is ours, `false` at the deadline; rejects with `signal.reason`
 * after making sure the session holds nothing (a lock taken at the last moment is released).
 *
 * @example
 * if (await waitForNamedLock({ connection, name, key, deadline, sliceMs: 2_000, fractionalTimeouts, signal, interrupt })) { ... }
 */
export async function waitForNamedLock(options: WaitForNamedLockOptions): Promise<boolean> {
  const { connection, name, signal } = options;
  for (;;) {
    if (signal.aborted) throw signal.reason;
    const remaining = options.deadline - Date.now();
    if (remaining <= 0) return false;
    const sliceMs = Math.min(options.sliceMs, remaining);
    const seconds = options.fractionalTimeouts
      ? Math.max(0.001, Math.round(sliceMs) / 1000)
      : Math.max(1, Math.ceil(sliceMs / 1000));

    let interrupted = false;
    const interruptNow = () => {
      if (interrupted || connection.connectionId === undefined) return;
      interrupted = true;
      connection.tainted = true;
      void options.interrupt(connection.connectionId);
    };
    signal.addEventListener('abort', interruptNow, { once: true });
    const overshootMs = seconds * 1000 - sliceMs;
    const deadlineTimer = overshootMs > 0 ? setTimeout(interruptNow, Math.max(0, remaining)) : undefined;

    let acquired: unknown;
    try {
      const row = await connection.selectOne('SELECT GET_LOCK(?, ?) AS acquired', [name, seconds]);
      acquired = row.acquired;
    } catch (error) {
      // An interrupted wait may surface as ER_QUERY_INTERRUPTED instead of NULL.
      if (!interrupted || isConnectionGone(error)) throw error;
      acquired = null;
    } finally {
      signal.removeEventListener('abort', interruptNow);
      clearTimeout(deadlineTimer);
    }

    if (acquired !== null && Number(acquired) === 1) {
      if (!signal.aborted) return true;
      // Taken just as the caller gave up: hand it straight back before reporting the abort.
      connection.tainted = true;
      await connection.selectOne('SELECT RELEASE_LOCK(?) AS released', [name]).catch(() => undefined);
      throw signal.reason;
    }
    if (acquired === null || acquired === undefined) {
      if (signal.aborted) throw signal.reason;
      if (!interrupted) throw getLockReturnedNull(options.key);
    }
  }
}
