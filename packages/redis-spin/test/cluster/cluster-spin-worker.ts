// Child process on a Redis Cluster: increments one file counter per master's key under the lock,
// through RedisSpinLockBackend.
import { runClusterCounterWorker } from '@dlock/conformance/redis';
import { RedisSpinLockBackend } from '../../src/index.js';

await runClusterCounterWorker(
  (cluster) => new RedisSpinLockBackend(cluster, { minDelayMs: 2, maxDelayMs: 50 }),
);
