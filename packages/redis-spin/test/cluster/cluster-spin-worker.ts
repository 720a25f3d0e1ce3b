// Child process on a Redis Cluster: for each key in LOCK_KEYS (one per master), increments that
// key's file counter ITERATIONS times under the lock through RedisSpinLockBackend; the keys are
// worked on concurrently, so all masters serve this process at once.
import { runCounterWorker } from '@dlock/conformance/worker';
import { Cluster } from 'ioredis';
import { RedisSpinLockBackend } from '../../src/index.js';

const nodes = process.env.REDIS_CLUSTER_NODES!.split(',').map((node) => {
  const [host, port] = node.split(':');
  return { host: host!, port: Number(port) };
});
const keys = process.env.LOCK_KEYS!.split(',');
const counterFiles = process.env.COUNTER_FILES!.split(',');
const cluster = new Cluster(nodes);
cluster.on('error', () => {});
await Promise.all(
  keys.map((key, index) =>
    runCounterWorker({
      // One backend per key: each worker's manager closes its own backend when done.
      backends: { spin: new RedisSpinLockBackend(cluster, { minDelayMs: 2, maxDelayMs: 50 }) },
      key,
      counterFile: counterFiles[index]!,
      iterations: Number(process.env.ITERATIONS),
      lockOptions: { retry: { waitMs: 60_000 } },
    }),
  ),
);
await cluster.quit();
