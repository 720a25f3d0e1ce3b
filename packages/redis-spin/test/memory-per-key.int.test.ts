import { usePrivateRedis } from '@dlock/conformance';
import { LockManager } from '@dlock/core';
import { describe, expect, it } from 'vitest';
import { RedisSpinLockBackend } from '../src/index.js';

// Issue #18: nothing per key stays after release, in Redis or in the process. A private
// redis-server (no persistence) so DBSIZE and used_memory count only this test's traffic.
// No timing assertions: only counts and bytes.
const KEYS = 100_000;
const IN_FLIGHT = 256;

const privateRedis = usePrivateRedis();

describe('memory per key (redis-spin, issue #18)', () => {
  it('fencing tokens stay strictly increasing across a restart of Redis without persistence', async () => {
    const { redis, server } = privateRedis();
    const manager = new LockManager({ backends: { spin: new RedisSpinLockBackend(redis) } });
    const first = await manager.acquire('fence:restart');
    const before = first.fencingToken!;
    await first.release();
    await server.restart(); // no persistence: every key, script and counter is gone
    await new Promise((resolve) =>
      redis.status === 'ready' ? resolve(undefined) : redis.once('ready', resolve),
    );
    expect(await redis.dbsize()).toBe(0);
    const second = await manager.acquire('fence:restart');
    expect(second.fencingToken).toBeGreaterThan(before);
    await second.release();
    await manager.close();
  }, 30_000);

  it(`locks and releases ${KEYS} distinct keys: Redis keys, Redis memory and the heap return to baseline`, async () => {
    const { redis, expectNothingLeftPerKey } = privateRedis();
    const manager = new LockManager({ backends: { spin: new RedisSpinLockBackend(redis) } });
    await expectNothingLeftPerKey(manager, { keys: KEYS, inFlight: IN_FLIGHT });
    await manager.close();
  }, 60_000);
});
