// inspect / list / forceRelease on a real 3-master Redis Cluster started for this file: list scans
// every master and reads each node's matches through that node.
import { randomUUID } from 'node:crypto';
import { usePrivateRedisCluster } from '@dlock/conformance';
import { testPrefix } from '@dlock/conformance/redis';
import { LockManager } from '@dlock/core';
import { redisLockKeys } from '@dlock/redis-common';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisSpinLockBackend } from '../../src/index.js';

const cluster = usePrivateRedisCluster();
const keyPrefix = testPrefix('inspect-cluster');
const managers: LockManager[] = [];
afterEach(async () => {
  await Promise.all(managers.splice(0).map((manager) => manager.close()));
});

function manager(): LockManager<'spin'> {
  const created = new LockManager({
    backends: { spin: new RedisSpinLockBackend(cluster().client(), { keyPrefix }) },
    appName: 'cluster-inspect',
  });
  managers.push(created);
  return created;
}

describe('Redis Cluster: inspect, list, forceRelease', () => {
  it('lists the held locks of every master; inspects and force-releases one', async () => {
    const run = randomUUID().slice(0, 8);
    // One key per master.
    const keys = new Map<number, string>();
    while (keys.size < cluster().size) {
      const key = `c-${run}:${randomUUID().slice(0, 8)}`;
      const owner = await cluster().ownerOf(redisLockKeys(keyPrefix, key).lock);
      if (!keys.has(owner)) keys.set(owner, key);
    }
    const holder = manager();
    const handles = await Promise.all(
      [...keys.values()].map((key) => holder.acquire(key, { leaseMs: 10_000 })),
    );
    const operator = manager();
    const listed = await operator.list({ prefix: `c-${run}:` });
    expect(listed.map((lock) => lock.key)).toEqual([...keys.values()].sort());
    expect(listed.every((lock) => lock.held && (lock.fencingToken ?? 0) > 0)).toBe(true);

    const [first] = [...keys.values()];
    expect(await operator.inspect(first!)).toMatchObject({ held: true, waiters: 0 });
    expect(await operator.forceRelease(first!)).toMatchObject({ released: true });
    expect((await operator.inspect(first!)).held).toBe(false);
    // The force-released handle reports the loss at its release; the others release normally.
    await expect(handles[0]!.release()).rejects.toThrow(/was lost/);
    for (const handle of handles.slice(1)) await handle.release();
  });
});
