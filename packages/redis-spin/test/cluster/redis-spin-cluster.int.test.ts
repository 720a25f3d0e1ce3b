// RedisSpinLockBackend on a real 3-master Redis Cluster started for this file (loopback ports,
// stopped by PID): the shared conformance suite, and mutual exclusion across 4 OS processes on
// keys of every master. Mixed spin + pub/sub on a cluster is tested in @dlock/redis-pubsub.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  readFileCounter,
  runLockBackendConformance,
  runWorkers,
  usePrivateRedisCluster,
} from '@dlock/conformance';
import { testPrefix } from '@dlock/conformance/redis';
import { redisLockKeys } from '@dlock/redis-common';
import { describe, expect, it } from 'vitest';
import { RedisSpinLockBackend } from '../../src/index.js';

const cluster = usePrivateRedisCluster();

const keyPrefix = testPrefix('spin-cluster');
runLockBackendConformance({
  name: 'redis-spin on Redis Cluster',
  createBackend: () => new RedisSpinLockBackend(cluster().client(), { keyPrefix }),
  fairWaiting: false,
});

describe('RedisSpinLockBackend on Redis Cluster across OS processes', () => {
  it('4 processes x 3 keys (one per master) x 10 increments of non-atomic file counters end exact', async () => {
    // One key per master, so every shard serves the contention.
    const keys = new Map<number, string>();
    while (keys.size < cluster().size) {
      const key = `test:spin-cluster:${randomUUID()}`;
      const owner = await cluster().ownerOf(redisLockKeys('dlock:', key).lock);
      if (!keys.has(owner)) keys.set(owner, key);
    }
    expect([...keys.keys()].sort()).toEqual([0, 1, 2]);
    const dir = mkdtempSync(join(tmpdir(), 'dlock-spin-cluster-'));
    const counterFiles = [...keys.keys()].map((index) => join(dir, `counter-${index}`));
    for (const file of counterFiles) writeFileSync(file, '0');
    const results = await runWorkers(4, {
      script: join(import.meta.dirname, 'cluster-spin-worker.ts'),
      env: {
        REDIS_CLUSTER_NODES: cluster().startupNodes,
        LOCK_KEYS: [...keys.values()].join(','),
        COUNTER_FILES: counterFiles.join(','),
        ITERATIONS: '10',
      },
    });
    try {
      for (const result of results) expect(result.code, result.stderr).toBe(0);
      expect(await Promise.all(counterFiles.map(readFileCounter))).toEqual([40, 40, 40]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
