import { describe, expect, it } from 'vitest';
import { assertKeyPrefix, escapeHashTag, parseRedisLockValue, redisLockKeys } from './redis-key-layout.js';

/** Redis Cluster's rule: hash the part between the first "{" and the next "}", if non-empty. */
function hashTag(name: string): string {
  const open = name.indexOf('{');
  if (open === -1) return name;
  const close = name.indexOf('}', open + 1);
  if (close === -1 || close === open + 1) return name;
  return name.slice(open + 1, close);
}

describe('redisLockKeys', () => {
  it('puts the lock, queue and channel names of a key under one hash tag', () => {
    const { lock, queue, channel } = redisLockKeys('dlock:', 'stock:42');
    expect({ lock, queue, channel }).toEqual({
      lock: 'dlock:{stock:42}',
      queue: 'dlock:{stock:42}:queue',
      channel: 'dlock:{stock:42}:released',
    });
  });

  it.each(['plain', 'a{b}c', '}', '{', '{}', 'x}y{z', '%7B', '50%', 'user:{42}'])(
    'keeps every name of %j in one slot and distinct from other keys',
    (key) => {
      const { lock, queue, channel } = redisLockKeys('dlock:', key);
      const tags = new Set([lock, queue, channel].map(hashTag));
      expect(tags.size).toBe(1);
      expect([...tags][0]).toBe(escapeHashTag(key));
      expect([...tags][0]).not.toMatch(/[{}]/);
    },
  );

  it('escapes injectively: keys that differ stay different', () => {
    const keys = ['a{b', 'a%7Bb', 'a%257Bb', 'a}b', 'a%7Db', '%', '%25'];
    const escaped = keys.map(escapeHashTag);
    expect(new Set(escaped).size).toBe(keys.length);
  });

  it('rejects a keyPrefix with braces or of the wrong type', () => {
    expect(() => assertKeyPrefix('app:{x}:', 'test')).toThrow(/keyPrefix/);
    expect(() => assertKeyPrefix(42, 'test')).toThrow(/keyPrefix/);
    expect(() => assertKeyPrefix('app:', 'test')).not.toThrow();
  });
});

describe('parseRedisLockValue', () => {
  it('reads the fence, the queue flag and the owner (any characters), a tombstone, and nothing else', () => {
    expect(parseRedisLockValue('1764410000000123:q:a:b c')).toEqual({
      fencingToken: 1764410000000123,
      waitersQueued: true,
      owner: 'a:b c',
      ownerRecord: undefined,
    });
    expect(parseRedisLockValue('7:-:')).toEqual({
      fencingToken: 7,
      waitersQueued: false,
      owner: undefined,
      ownerRecord: undefined,
    });
    expect(parseRedisLockValue(null)).toBeUndefined();
    expect(parseRedisLockValue('plain-token')).toBeUndefined();
  });

  it('ends the token at the first newline: what follows is the owner record, newlines and all', () => {
    expect(parseRedisLockValue('9:q:tok:en\n1764410000000\n{"l":"a\\nb"}')).toEqual({
      fencingToken: 9,
      waitersQueued: true,
      owner: 'tok:en',
      ownerRecord: '1764410000000\n{"l":"a\\nb"}',
    });
  });
});
