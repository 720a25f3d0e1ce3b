import { MAX_DURATION_MS } from '@dlock/core';

/** A pending {@link setDeadlineTimer}; `clear()` is idempotent. */
export interface DeadlineTimer {
  clear(): void;
}

/**
 * Call `callback` once at the epoch-ms `deadline`. A deadline may lie further ahead than Node can
 * time (`slice + commandTimeoutMs` with a huge `waitSliceMs`): Node fires such a timer after 1 ms,
 * so the delay is capped and the timer re-armed until the deadline is really reached.
 *
 * @example
 * const timer = setDeadlineTimer(Date.now() + 5_000, () => connection.destroy());
 * try { await answer; } finally { timer.clear(); }
 */
export function setDeadlineTimer(deadline: number, callback: () => void): DeadlineTimer {
  let handle: NodeJS.Timeout | undefined;
  // Always asynchronous, even for a deadline already past: callers arm it before they are ready.
  const arm = () => {
    const delay = Math.min(Math.max(0, deadline - Date.now()), MAX_DURATION_MS);
    handle = setTimeout(() => {
      if (Date.now() >= deadline) callback();
      else arm();
    }, delay);
  };
  arm();
  return {
    clear: () => {
      clearTimeout(handle);
      handle = undefined;
    },
  };
}
