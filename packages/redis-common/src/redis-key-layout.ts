import { InvalidLockOptionsError } from '@dlock/core';

/** The default prefix of every Redis name the lock format writes. */
export const DEFAULT_KEY_PREFIX = 'dlock:';

/** The Redis names of one lock. All share the hash tag `{<escaped key>}`, hence one Cluster slot. */
export interface RedisLockKeys {
  /**
   * `<prefix>{<key>}`: string `"<fencing token>:<flag>:<owner token>"`, followed by
   * `"\n<acquired at, server ms>\n<JSON owner record>"` when the holder records its owner, with the
   * lease as its PX expiry (flag `q`: waiters may be queued; `s`: a caller that does not queue was
   * turned away; `-`: none). The record lives in the lock value so that it is written, expired and
   * deleted with the lock at no extra command. Read it with {@link parseRedisLockValue}.
   */
  readonly lock: string;
  /**
   * `<prefix>{<key>}:queue`: sorted set of waiting tokens (`"<token>\n<JSON owner record>"` when
   * the waiter records its owner, which a handoff writes into the lock value), scored by when each
   * stops waiting.
   */
  readonly queue: string;
  /** `<prefix>{<key>}:released`: pub/sub channel; a handoff publishes the new owner's token. */
  readonly channel: string;
}

/**
 * The Redis names of the lock `key`. The key is escaped so that it cannot end the hash tag early:
 * `%` becomes `%25`, `{` becomes `%7B` and `}` becomes `%7D` (percent-encoding, so distinct keys
 * stay distinct).
 *
 * @example
 * redisLockKeys('dlock:', 'stock:42');
 * // { lock: 'dlock:{stock:42}', queue: 'dlock:{stock:42}:queue', channel: 'dlock:{stock:42}:released' }
 */
export function redisLockKeys(keyPrefix: string, key: string): RedisLockKeys {
  return new LockKeyNames(`${keyPrefix}{${escapeHashTag(key)}}`);
}

/**
 * Keeps the lock's own name only and makes the others when a script call reads them: a held lock
 * keeps this object until it is released, and one string is what that should cost, not three (heap
 * per held lock, issue #18). Read the names; do not spread the object (its names are getters).
 */
export class LockKeyNames implements RedisLockKeys {
  readonly lock: string;

  constructor(lock: string) {
    this.lock = lock;
  }
  get queue(): string {
    return `${this.lock}:queue`;
  }
  get channel(): string {
    return `${this.lock}:released`;
  }
}

/**
 * Percent-encode the three characters that would change the hash tag or make escaping ambiguous.
 *
 * @example
 * escapeHashTag('a{b}'); // 'a%7Bb%7D'
 */
export function escapeHashTag(key: string): string {
  // Most keys have none of the three: no regular expression, no new string.
  if (key.indexOf('%') < 0 && key.indexOf('{') < 0 && key.indexOf('}') < 0) return key;
  return key.replace(/[%{}]/g, (char) => (char === '%' ? '%25' : char === '{' ? '%7B' : '%7D'));
}

/**
 * Validate a backend's `keyPrefix`: a string without `{` or `}` (a brace would move the hash tag
 * and split one lock's keys over several Cluster slots).
 *
 * @example
 * assertKeyPrefix('shop:dlock:', 'redis-spin');
 */
export function assertKeyPrefix(keyPrefix: unknown, backend: string): asserts keyPrefix is string {
  if (typeof keyPrefix !== 'string' || /[{}]/.test(keyPrefix)) {
    throw new InvalidLockOptionsError(
      `${backend}: keyPrefix must be a string without "{" or "}" (got ${JSON.stringify(keyPrefix)}); the default is "${DEFAULT_KEY_PREFIX}".`,
      { backend },
    );
  }
}

/** A lock key's value, read: see {@link RedisLockKeys.lock}. */
export interface RedisLockValue {
  /** The fencing token handed out with the lock. */
  readonly fencingToken: number;
  /** Whether waiters may be queued behind the holder. */
  readonly waitersQueued: boolean;
  /** The holder's owner token; `undefined` for a tombstone (free, kept for `fenceRetentionMs`). */
  readonly owner: string | undefined;
  /**
   * What follows the token, `"<acquired at, server ms>\n<JSON>"` (decode it with
   * `decodeRedisOwner`); `undefined` when the holder records no owner.
   */
  readonly ownerRecord: string | undefined;
}

/**
 * Read the value of a lock key (`GET <prefix>{<key>}`); `undefined` when the key does not exist or
 * was not written by this format.
 *
 * @example
 * parseRedisLockValue(await redis.get(redisLockKeys('dlock:', 'stock:42').lock))?.owner;
 */
export function parseRedisLockValue(value: string | null | undefined): RedisLockValue | undefined {
  // Tokens never contain "\n": the first one ends the token and starts the owner record.
  const match = value == null ? null : /^(\d+):(.):([^\n]*)(?:\n([\s\S]*))?$/.exec(value);
  if (!match) return undefined;
  return {
    fencingToken: Number(match[1]),
    waitersQueued: match[2] === 'q',
    owner: match[3] === '' ? undefined : match[3],
    ownerRecord: match[4],
  };
}
