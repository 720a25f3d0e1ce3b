import { LockError } from '@dlock/core';
import { setDeadlineTimer } from './deadline-timer.js';
import type { LockConnection, StatementLimits } from './lock-connection.js';
import { getLockReturnedNull, isConnectionGone } from './mysql-backend-error.js';

export interface WaitForNamedLockOptions {
  readonly connection: LockConnection;
  readonly name: string;
  readonly key: string;
  /** Epoch ms when waiting ends. */
  readonly deadline: number;
  /** The caller's `waitMs`, for messages. */
  readonly waitMs: number;
  readonly sliceMs: number;
  /** MariaDB takes fractional `GET_LOCK` timeouts; MySQL only whole seconds. */
  readonly fractionalTimeouts: boolean;
  /** How long past its own timeout a slice's answer may take (`commandTimeoutMs`). */
  readonly commandTimeoutMs: number;
  /** How long past `deadline` an answer may take before the connection counts as silent. */
  readonly replyGraceMs: number;
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
 * No slice waits for its answer past `deadline + replyGraceMs`: a connection that stays silent
 * that long is destroyed and the call rejects with a retryable `LockBackendError`. An aborted
 * `signal` destroys the connection at once (the server ends the session, so nothing stays held or
 * queued) and rejects with `signal.reason`.
 *
 * Resolves `true` when the lock is ours, `false` at the deadline.
 *
 * @example
 * if (await waitForNamedLock({ connection, name, key, deadline, waitMs, sliceMs: 2_000, fractionalTimeouts,
 *   commandTimeoutMs: 5_000, replyGraceMs: 250, signal, interrupt })) { ... }
 */
export async function waitForNamedLock(options: WaitForNamedLockOptions): Promise<boolean> {
  const { connection, name, signal, deadline } = options;
  for (;;) {
    if (signal.aborted) throw signal.reason;
    const remaining = deadline - Date.now();
    if (remaining <= 0) return false;
    const sliceMs = Math.min(options.sliceMs, remaining);
    const seconds = options.fractionalTimeouts
      ? Math.max(0.001, Math.round(sliceMs) / 1000)
      : Math.max(1, Math.ceil(sliceMs / 1000));
    const blockingMs = seconds * 1000;
    const sentAt = Date.now();

    let cut = false;
    const cutAtDeadline = () => {
      if (cut || connection.connectionId === undefined) return;
      cut = true;
      connection.tainted = true;
      void options.interrupt(connection.connectionId);
    };
    const cutTimer = blockingMs > sliceMs ? setDeadlineTimer(deadline, cutAtDeadline) : undefined;
    const ownEnd = sentAt + blockingMs + options.commandTimeoutMs;
    const callerEnd = deadline + options.replyGraceMs;
    const limit =
      callerEnd <= ownEnd
        ? `retry.waitMs (${Math.round(options.waitMs)} ms) + ${options.replyGraceMs} ms`
        : `its ${seconds} s timeout + commandTimeoutMs (${options.commandTimeoutMs} ms)`;

    let acquired: unknown;
    try {
      const row = await connection.selectOne('SELECT GET_LOCK(?, ?) AS acquired', [name, seconds], {
        deadline: Math.min(ownEnd, callerEnd),
        limit,
        action: 'GET_LOCK',
        signal,
        blocking: true,
      });
      acquired = row.acquired;
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      // An interrupted wait may surface as ER_QUERY_INTERRUPTED instead of NULL.
      if (!cut || isConnectionGone(error) || LockError.isInstance(error)) throw error;
      acquired = null;
    } finally {
      cutTimer?.clear();
    }

    if (acquired !== null && acquired !== undefined && Number(acquired) === 1) {
      // Granted as the deadline cut it short: a KILL QUERY may still be on its way and would hit
      // this session's next statement. The wait is over anyway: give it up (the tainted
      // connection is destroyed, which frees the lock).
      if (cut) return false;
      if (!signal.aborted) return true;
      // Taken just as the caller gave up: the caller destroys this connection, which frees it.
      connection.tainted = true;
      throw signal.reason;
    }
    if (acquired === null || acquired === undefined) {
      if (signal.aborted) throw signal.reason;
      if (!cut) throw getLockReturnedNull(options.key);
    }
  }
}

/**
 * The limits of each statement of one acquisition that does not block on the server, as of the
 * moment it is sent. A waiting caller's `waitMs` bounds the whole lock phase: no answer is awaited
 * past the deadline plus the reply grace (at least the grace, when opening the connection used
 * the wait up); a try-once caller's statements get `commandTimeoutMs`.
 *
 * @example
 * const limitsNow = lockPhaseLimits({ deadline, waitMs, commandTimeoutMs, replyGraceMs, signal });
 * await connection.selectOne(sql, [name], { ...limitsNow(), action: 'GET_LOCK' });
 */
export function lockPhaseLimits(phase: {
  readonly deadline: number;
  readonly waitMs: number;
  readonly commandTimeoutMs: number;
  readonly replyGraceMs: number;
  readonly signal: AbortSignal;
}): () => Omit<StatementLimits, 'action'> {
  const { deadline, waitMs, commandTimeoutMs, replyGraceMs, signal } = phase;
  return () => {
    const now = Date.now();
    const ownEnd = now + commandTimeoutMs;
    const callerEnd = Math.max(deadline, now) + replyGraceMs;
    return waitMs > 0 && callerEnd < ownEnd
      ? {
          deadline: callerEnd,
          limit: `retry.waitMs (${Math.round(waitMs)} ms) + ${replyGraceMs} ms`,
          signal,
        }
      : { deadline: ownEnd, limit: `commandTimeoutMs (${commandTimeoutMs} ms)`, signal };
  };
}
