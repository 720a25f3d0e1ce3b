import { InvalidLockOptionsError } from '@dlock/core';

/** The default prefix of every Redis name the lock format writes. */
export const DEFAULT_KEY_PREFIX = 'dlock:';

/** The Redis names of one lock. All share the hash tag `{<escaped key>}`, hence one Cluster slot. */
export interface RedisLockKeys {
  /** `<prefix>{<key>}`: string holding the owner token, with the lease as its PX expiry. */
  readonly lock: string;
  /** `<prefix>{<key>}:fence`: the last fencing token handed out for the key. */
  readonly fence: string;
  /** `<prefix>{<key>}:queue`: sorted set of waiting tokens, scored by when each stops waiting. */
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
 * // { lock: 'dlock:{stock:42}', fence: 'dlock:{stock:42}:fence', queue: 'dlock:{stock:42}:queue',
//   channel: 'dlock:{stock:42}:released' }
 */
export function redisLockKeys(keyPrefix: string, key: string): RedisLockKeys {
  const lock = `${keyPrefix}{${escapeHashTag(key)}}`;
  return { lock, fence: `${lock}:fence`, queue: `${lock}:queue`, channel: `${lock}:released` };
}

/**
 * Percent-encode the three characters that would change the hash tag or make escaping ambiguous.
 *
 * @example
 * escapeHashTag('a{b}'); // 'a%7Bb%7D'
 */
export function escapeHashTag(key: string): string {
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
