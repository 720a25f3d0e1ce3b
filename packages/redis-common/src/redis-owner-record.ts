import type { LockOwner, LockOwnerRecord } from '@dlock/core';

// Who holds a lock is recorded in the lock value itself, after the holder's token (see
// RedisLockKeys.lock): `"<fence>:<flag>:<token>\n<acquired at, server ms>\n<JSON>"`, written by the
// acquire script in the call that takes the lock. Being part of the value, the record expires and
// is deleted with the lock, and can only ever name the token beside it.

/** The JSON the acquire script stores in the lock value (short names: it is kept per held lock). */
interface StoredOwner {
  readonly h?: string;
  readonly p?: number;
  readonly a?: string;
  readonly l?: string;
}

/** Records are few (one per label) and frozen: encode each once, not per acquisition. */
const encoded = new WeakMap<LockOwnerRecord, string>();

/**
 * The JSON an acquisition records for `owner` (host, pid, app name, label); the script stores it
 * with the holder's token and the acquisition time from the Redis server clock.
 *
 * @example
 * encodeRedisOwner({ host: 'web-1', pid: 42, appName: 'shop' }); // '{"h":"web-1","p":42,"a":"shop"}'
 */
export function encodeRedisOwner(owner: LockOwnerRecord | undefined): string {
  if (!owner) return '{}';
  let json = encoded.get(owner);
  if (json === undefined) {
    const stored: StoredOwner = { h: owner.host, p: owner.pid, a: owner.appName, l: owner.label };
    json = JSON.stringify(stored);
    encoded.set(owner, json);
  }
  return json;
}

/**
 * The owner record of a lock value read (`RedisLockValue.ownerRecord`: `"<acquired at>\n<JSON>"`);
 * `undefined` when there is none or it is unreadable.
 *
 * @example
 * decodeRedisOwner(parseRedisLockValue(await redis.get(keys.lock))?.ownerRecord)?.host;
 */
export function decodeRedisOwner(record: string | undefined): LockOwner | undefined {
  const match = record === undefined ? null : /^(\d+)\n([\s\S]*)$/.exec(record);
  if (!match) return undefined;
  try {
    const stored = JSON.parse(match[2]!) as StoredOwner;
    return {
      host: stored.h,
      pid: stored.p,
      appName: stored.a,
      label: stored.l,
      acquiredAt: Number(match[1]),
    };
  } catch {
    return undefined;
  }
}
