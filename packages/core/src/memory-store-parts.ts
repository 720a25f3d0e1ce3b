/** Pieces the in-memory store's parts share: waiters, per-holder leases, fences. */

/** A caller waiting for a key of the in-memory store. */
export interface Sleeper {
  wake(): void;
  /** A waiting reader (`'read'`) or writer (omitted). Readers queued back to back are woken together. */
  readonly kind?: 'read' | 'write' | undefined;
}

/** The next fencing token of `key`: one more than the last handed out. */
export function nextFence(fences: Map<string, number>, key: string): number {
  const fence = (fences.get(key) ?? 0) + 1;
  fences.set(key, fence);
  return fence;
}

/** Drop the holders whose lease ended. */
export function dropExpired(holders: Map<string, number>): void {
  const now = Date.now();
  for (const [token, expiresAt] of holders) if (expiresAt <= now) holders.delete(token);
}

/** Queue `sleeper` last for `key`. */
export function addTo(sleepers: Map<string, Sleeper[]>, key: string, sleeper: Sleeper): void {
  const queue = sleepers.get(key);
  if (queue) queue.push(sleeper);
  else sleepers.set(key, [sleeper]);
}

/** Take `sleeper` out of `key`'s queue (and the queue out of the map once empty). */
export function removeFrom(sleepers: Map<string, Sleeper[]>, key: string, sleeper: Sleeper): void {
  const queue = sleepers.get(key);
  if (!queue) return;
  const index = queue.indexOf(sleeper);
  if (index >= 0) queue.splice(index, 1);
  if (queue.length === 0) sleepers.delete(key);
}
