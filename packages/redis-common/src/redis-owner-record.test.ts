import { describe, expect, it } from 'vitest';
import { parseRedisLockValue } from './redis-key-layout.js';
import { decodeRedisOwner, encodeRedisOwner } from './redis-owner-record.js';

describe('owner records', () => {
  it('encodes a record once per object, in short names, and reads back what the script stored', () => {
    const owner = Object.freeze({ host: 'web-1', pid: 42, appName: 'shop', label: 'Stock.decrease' });
    const json = encodeRedisOwner(owner);
    expect(json).toBe('{"h":"web-1","p":42,"a":"shop","l":"Stock.decrease"}');
    expect(encodeRedisOwner(owner)).toBe(json);
    expect(encodeRedisOwner(undefined)).toBe('{}');
    const value = parseRedisLockValue(`17:-:token-1\n1764410000000\n${json}`);
    expect(value?.owner).toBe('token-1');
    expect(decodeRedisOwner(value?.ownerRecord)).toEqual({
      host: 'web-1',
      pid: 42,
      appName: 'shop',
      label: 'Stock.decrease',
      acquiredAt: 1764410000000,
    });
  });

  it('ignores a missing record and what it cannot read', () => {
    expect(decodeRedisOwner(undefined)).toBeUndefined();
    expect(decodeRedisOwner(parseRedisLockValue('17:-:token-1')?.ownerRecord)).toBeUndefined();
    expect(decodeRedisOwner('not-a-time\n{}')).toBeUndefined();
    expect(decodeRedisOwner('1\n{broken')).toBeUndefined();
  });
});
