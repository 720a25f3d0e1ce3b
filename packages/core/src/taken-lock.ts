import type { HeldLock } from './held-lock.js';

/** A lock of this call, and whether this call took it (or re-entered one held further up its chain). */
export interface TakenLock {
  readonly lock: HeldLock;
  readonly fresh: boolean;
}

/** What a call does with its locks once it has them (see `LockAcquirer.acquireAll`). */
export type TakenLocksUse<R> = (taken: TakenLock[]) => R | Promise<R>;

/** The locks of a call that this call took itself (and must release). */
export function freshLocks(taken: readonly TakenLock[]): HeldLock[] {
  return taken.filter(({ fresh }) => fresh).map(({ lock }) => lock);
}
