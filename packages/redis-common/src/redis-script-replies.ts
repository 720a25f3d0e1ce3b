/**
 * Reading script replies whatever the client's reply options: with ioredis' `stringNumbers`
 * integers arrive as strings, and a strict `=== 1` would turn a successful release into "lost".
 * The generated script calls (generated/lua-scripts.ts) read every reply through these.
 */

/**
 * The acquire script's `{status, value}`: `[1, fencingToken]` or `[0, remainingMs]`, the latter
 * with the holder's fencing token when someone else holds the lock.
 */
export type AcquireReply = readonly [status: 0 | 1, value: number, holderFence?: number];

/** The 0/1 reply of the extend scripts (and the shared locks' release): whether the hold was ours. */
export type FlagReply = boolean;

/**
 * The release script's reply: 0 not ours (untouched), 1 released, 2 released and a caller that does
 * not queue (spin, try-once) was turned away while it was held.
 */
export type ReleaseReply = 0 | 1 | 2;

export function parseReleaseReply(raw: unknown): ReleaseReply {
  const reply = toInteger(raw);
  if (reply === 0 || reply === 1 || reply === 2) return reply;
  throw new TypeError(
    `Unexpected reply from the release script (expected 0, 1 or 2): ${JSON.stringify(raw)}`,
  );
}

export function parseAcquireReply(raw: unknown): AcquireReply {
  if (Array.isArray(raw) && (raw.length === 2 || raw.length === 3)) {
    const status = toInteger(raw[0]);
    const value = toInteger(raw[1]);
    const holderFence = raw.length === 3 ? toInteger(raw[2]) : undefined;
    if ((status === 0 || status === 1) && value !== undefined) {
      return holderFence === undefined ? [status, value] : [status, value, holderFence];
    }
  }
  throw new TypeError(`Unexpected reply from the acquire script: ${JSON.stringify(raw)}`);
}

/**
 * The semaphore-acquire script's `{status, value}`: `[1, fencingToken]`, `[0, remainingMs]`, or
 * `[2, storedPermits]` when the semaphore is in use with other permits.
 */
export type SemaphoreReply = readonly [status: 0 | 1 | 2, value: number];

export function parseSemaphoreReply(raw: unknown): SemaphoreReply {
  if (Array.isArray(raw) && raw.length === 2) {
    const status = toInteger(raw[0]);
    const value = toInteger(raw[1]);
    if ((status === 0 || status === 1 || status === 2) && value !== undefined) return [status, value];
  }
  throw new TypeError(`Unexpected reply from the semaphore-acquire script: ${JSON.stringify(raw)}`);
}

export function parseFlagReply(raw: unknown): FlagReply {
  const flag = toInteger(raw);
  if (flag === 0 || flag === 1) return flag === 1;
  throw new TypeError(`Unexpected reply from a lock script (expected 0 or 1): ${JSON.stringify(raw)}`);
}

function toInteger(value: unknown): number | undefined {
  const number =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && value !== ''
        ? Number(value)
        : Number.NaN;
  return Number.isSafeInteger(number) ? number : undefined;
}
