import type { LockOwner, LockOwnerRecord } from '@dlock/core';
import { type RedisLockKeys, redisLockKeys } from './redis-key-layout.js';
import type { RedisLockScriptSettings } from './redis-lock-attempt.js';

/**
 * `<prefix>{<key>}:owner`: who holds the lock, beside it under the same hash tag and with the same
 * expiry, written by the acquire script in the call that takes the lock (see
 * {@link RedisLockKeys.owner}). Its value is `"<owner token>\n<acquired at ms>\n<JSON>"`; the
 * token ties it to the holder named by the lock value, so a record left by an earlier holder is
 * never shown as the current one's.
 *
 * @example
 * redisOwnerKey('dlock:', 'stock:42'); // "dlock:{stock:42}:owner"
 */
export function redisOwnerKey(keyPrefix: string, key: string): string {
  return redisLockKeys(keyPrefix, key).owner;
}

/** The JSON the acquire script stores in the owner key (short names: it is kept per held lock). */
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

/** The owner key's value read, if it names `holderToken` (the token in the lock value). */
export function decodeRedisOwner(value: string | null, holderToken: string): LockOwner | undefined {
  const match = value == null ? null : /^([^\n]*)\n(\d+)\n([\s\S]*)$/.exec(value);
  if (!match || match[1] !== holderToken) return undefined;
  try {
    const stored = JSON.parse(match[3]!) as StoredOwner;
    return {
      host: stored.h,
      pid: stored.p,
      appName: stored.a,
      label: stored.l,
      acquiredAt: Number(match[2]),
    };
  } catch {
    return undefined;
  }
}

/** The `recordOwner` argument of the scripts: 1 or 0. */
export function recordFlag(settings: RedisLockScriptSettings): number {
  return settings.recordOwner ? 1 : 0;
}
