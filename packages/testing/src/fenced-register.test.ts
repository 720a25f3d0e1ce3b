import { describe, expect, it } from 'vitest';
import { FencedRegister } from './fenced-register.js';
import { FencedRegisterClient } from './fenced-register-client.js';
import { FencedRegisterServer } from './fenced-register-server.js';

describe('FencedRegister', () => {
  it('rejects a lower token, accepts an equal or higher one, per key, and logs every write', async () => {
    const register = new FencedRegister();
    expect(await register.write('a', 5, 'first')).toEqual({ accepted: true, highestToken: 5 });
    expect(await register.write('a', 5, 'same holder')).toEqual({ accepted: true, highestToken: 5 });
    expect(await register.write('a', 4, 'stale')).toEqual({ accepted: false, highestToken: 5 });
    expect(await register.write('b', 1, 'other key')).toEqual({ accepted: true, highestToken: 1 });
    expect(await register.write('a', 9, 'newer')).toEqual({ accepted: true, highestToken: 9 });
    expect(register.read('a')).toEqual({ token: 9, value: 'newer' });
    expect(register.writes.map((write) => [write.key, write.token, write.accepted])).toEqual([
      ['a', 5, true],
      ['a', 5, true],
      ['a', 4, false],
      ['b', 1, true],
      ['a', 9, true],
    ]);
    expect(register.writes[2]!.highestTokenBefore).toBe(5);
  });

  it('with enforce: false accepts stale writes (an unfenced resource)', () => {
    const register = new FencedRegister({ enforce: false });
    register.writeNow('a', 5, 'x');
    expect(register.writeNow('a', 3, 'y')).toEqual({ accepted: true, highestToken: 5 });
  });

  it('is shared through FencedRegisterServer and FencedRegisterClient', async () => {
    const server = await FencedRegisterServer.start();
    const first = new FencedRegisterClient(server.port);
    const second = new FencedRegisterClient(server.port);
    try {
      expect(await first.write('k', 2, { count: 1 })).toEqual({ accepted: true, highestToken: 2 });
      expect(await second.write('k', 1, { count: 0 })).toEqual({ accepted: false, highestToken: 2 });
      const results = await Promise.all([3, 4, 5].map((token) => first.write('k', token, token)));
      expect(results.every((result) => result.accepted)).toBe(true);
      expect(await second.read('k')).toEqual({ token: 5, value: 5 });
      expect(await second.read('missing')).toBeUndefined();
      expect(server.register.writes).toHaveLength(5);
    } finally {
      await first.close();
      await second.close();
      await server.close();
      await server.close();
    }
  });

  it('a client call rejects once the server is gone', async () => {
    const server = await FencedRegisterServer.start();
    const client = new FencedRegisterClient(server.port);
    await client.write('k', 1, 'v');
    await server.close();
    await expect(client.write('k', 2, 'v')).rejects.toThrow();
    await client.close();
  });
});
