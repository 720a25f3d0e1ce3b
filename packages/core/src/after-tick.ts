/**
 * Work a held lock can leave until the current tick's promise jobs are done: by then a lock
 * acquired and released in one tick (the uncontended path) no longer needs it, and a handed-over
 * lock's caller has already started its work instead of waiting for the bookkeeping.
 */
export interface AfterTickTask {
  runAfterTick(): void;
}

/** Tasks scheduled in this tick and not cancelled: run together by one `process.nextTick`. */
const pending = new Set<AfterTickTask>();
let scheduled = false;

/** Run `task` once this tick's promise jobs are done, unless {@link cancelAfterTick} comes first. */
export function scheduleAfterTick(task: AfterTickTask): void {
  pending.add(task);
  if (scheduled) return;
  scheduled = true;
  process.nextTick(runPending);
}

/**
 * Drop `task` if it has not run yet (even if other tasks of its batch are running): a loop that
 * never yields to the event loop (a memory backend) must not pile up finished locks.
 */
export function cancelAfterTick(task: AfterTickTask): void {
  pending.delete(task);
}

function runPending(): void {
  scheduled = false;
  // The live set, not a copy: a task that an earlier one cancels does not run.
  for (const task of pending) {
    pending.delete(task);
    try {
      task.runAfterTick();
    } catch (error) {
      // One task's failure must not leave the others (other locks' lease watches) unarmed.
      queueMicrotask(() => {
        throw error;
      });
    }
  }
}
