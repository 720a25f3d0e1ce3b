// RedisPubSubLockBackend on a real 3-master Redis Cluster started for this file (loopback ports,
// stopped by PID): the shared conformance suite, mutual exclusion across OS processes on keys of
// every master (pub/sub alone and mixed with spin), and handoffs delivered through sharded pub/sub.
// Spin alone on a cluster is tested in @dlock/redis-spin (test/cluster/).
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  readFileCounter,
  runLockBackendConformance,
  startWorker,
  usePrivateRedisCluster,
} from '@dlock/conformance';
import { testPrefix } from '@dlock/conformance/redis';
import { redisLockKeys } from '@dlock/redis-common';
import { RedisSpinLockBackend } from '@dlock/redis-spin';
import { describe, expect, it } from 'vitest';
import { RedisPubSubLockBackend } from '../../src/index.js';

const cluster = usePrivateRedisCluster();

const keyPrefix = testPrefix('cluster');
runLockBackendConformance({
  name: 'redis-pubsub on Redis Cluster',
  createBackend: () => new RedisPubSubLockBackend(cluster().client(), { keyPrefix }),
});

/** One key per master, so every shard takes part. */
async function keyOnEveryMaster(label: string): Promise<string[]> {
  const keys = new Map<number, string>();
  while (keys.size < cluster().size) {
    const key = `test:cluster:${label}:${randomUUID()}`;
    const owner = await cluster().ownerOf(redisLockKeys('dlock:', key).lock);
    if (!keys.has(owner)) keys.set(owner, key);
  }
  return [...keys.values()];
}

async function countAcrossProcesses(
  kinds: readonly ('spin' | 'pubsub')[],
  iterations: number,
): Promise<number[]> {
  const keys = await keyOnEveryMaster(kinds.join('-'));
  const dir = mkdtempSync(join(tmpdir(), 'dlock-cluster-counter-'));
  const counterFiles = keys.map((_, index) => join(dir, `counter-${index}`));
  for (const file of counterFiles) writeFileSync(file, '0');
  const running = kinds.map((kind) =>
    startWorker({
      script: join(import.meta.dirname, '..', 'workers', 'cluster-counter-worker.ts'),
      env: {
        REDIS_CLUSTER_NODES: cluster().startupNodes,
        BACKEND: kind,
        LOCK_KEYS: keys.join(','),
        COUNTER_FILES: counterFiles.join(','),
        ITERATIONS: String(iterations),
      },
    }),
  );
  try {
    for (const result of await Promise.all(running.map((worker) => worker.exited))) {
      expect(result.code, result.stderr).toBe(0);
    }
    return await Promise.all(counterFiles.map(readFileCounter));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('Redis Cluster: mutual exclusion across 4 OS processes on keys of all three masters', () => {
  it('pub/sub', async () => {
    expect(await countAcrossProcesses(['pubsub', 'pubsub', 'pubsub', 'pubsub'], 10)).toEqual([40, 40, 40]);
  });
  it('mixed: 2 spin + 2 pub/sub on the same keys', async () => {
    expect(await countAcrossProcesses(['spin', 'pubsub', 'spin', 'pubsub'], 10)).toEqual([40, 40, 40]);
  });
});

describe('Redis Cluster: handoffs travel through sharded pub/sub', () => {
  it('the waiter SSUBSCRIBEs on the owning shard only, and the release SPUBLISHes there (no cluster-wide PUBLISH)', async () => {
    const [key] = await keyOnEveryMaster('sharded');
    const names = redisLockKeys(keyPrefix, key!);
    const owner = await cluster().ownerOf(names.lock);
    for (let index = 0; index < cluster().size; index++) await cluster().node(index).config('RESETSTAT');
    const holder = new RedisSpinLockBackend(cluster().client(), { keyPrefix });
    // The user's own client has no shardedSubscribers: the backend makes a sharded duplicate itself.
    const waiter = new RedisPubSubLockBackend(cluster().client(), { keyPrefix });
    const request = { key: key!, leaseMs: 10_000, signal: new AbortController().signal };
    const held = (await holder.acquire({ ...request, token: randomUUID(), waitMs: 0 }))!;
    const waiting = waiter.acquire({ ...request, token: randomUUID(), waitMs: 10_000 });
    await sleep(300);
    for (let index = 0; index < cluster().size; index++) {
      const [, subscribers] = (await cluster().node(index).call('PUBSUB', 'SHARDNUMSUB', names.channel)) as [
        string,
        number,
      ];
      expect(subscribers).toBe(index === owner ? 1 : 0);
    }
    await held.release();
    const lock = await waiting;
    expect(lock).not.toBeNull();
    await lock!.release();
    const stats = await Promise.all(
      Array.from({ length: cluster().size }, (_, index) => cluster().node(index).info('commandstats')),
    );
    expect(stats[owner]).toMatch(/cmdstat_spublish:calls=1,/);
    for (const info of stats) expect(info).not.toMatch(/cmdstat_publish:/);
    await Promise.all([holder.close(), waiter.close()]);
  });
});
