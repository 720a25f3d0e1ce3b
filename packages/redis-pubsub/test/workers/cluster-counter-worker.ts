// Child process on a Redis Cluster: increments one file counter per master's key under the lock,
// through BACKEND ("pubsub" or "spin").
import { runClusterCounterWorker } from '@dlock/conformance/redis';
import { RedisSpinLockBackend } from '@dlock/redis-spin';
import { RedisPubSubLockBackend } from '../../src/index.js';

await runClusterCounterWorker((cluster) =>
  process.env.BACKEND === 'spin'
    ? new RedisSpinLockBackend(cluster, { minDelayMs: 2, maxDelayMs: 50 })
    : new RedisPubSubLockBackend(cluster),
);
