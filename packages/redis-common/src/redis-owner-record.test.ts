import { describe, expect, it } from 'vitest';
import { decodeRedisOwner, encodeRedisOwner, redisOwnerKey } from './redis-owner-record.js';

describe('owner records', () => {
  it('encodes a record once per object, in short names, and reads back what the script stored', () => {
    const owner = Object.freeze({ host: 'web-1', pid: 42, appName: 'shop', label: 'Stock.decrease' });
    const json = encodeRedisOwner(owner);
    expect(json).toBe('{"h":"web-1","p":42,"a":"shop","l":"Stock.decrease"}');
    expect(encodeRedisOwner(owner)).toBe(json);
    expect(encodeRedisOwner(undefined)).toBe('{}');
    expect(decodeRedisOwner(`token-1\n1764410000000\n${json}`, 'token-1')).toEqual({
      host: 'web-1',
      pid: 42,
      appName: 'shop',
      label: 'Stock.decrease',
      acquiredAt: 1764410000000,
    });
  });

  it('never shows a record that names another holder, and ignores what it cannot read', () => {
    const json = encodeRedisOwner({ host: 'web-1', pid: 42, appName: 'shop' });
    expect(decodeRedisOwner(`earlier\n1\n${json}`, 'current')).toBeUndefined();
    expect(decodeRedisOwner(null, 'current')).toBeUndefined();
    expect(decodeRedisOwner('current\nnot-a-time\n{}', 'current')).toBeUndefined();
    expect(decodeRedisOwner('current\n1\n{broken', 'current')).toBeUndefined();
  });

  it('keeps the owner key under the lock key hash tag', () => {
    expect(redisOwnerKey('dlock:', 'stock:{42}')).toBe('dlock:{stock:%7B42%7D}:owner');
  });
});
