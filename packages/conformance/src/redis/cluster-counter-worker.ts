import type { LockBackend } from '@dlock/core';
import { Cluster } from 'ioredis';
import { runCounterWorker } from '../worker.js';

/**
 * The body of a cluster worker process: for each key in `LOCK_KEYS` (one per master), increments
 * that key's file counter (`COUNTER_FILES`) `ITERATIONS` times under the lock, all keys at once, so
 * every master serves this process. The cluster is reached through `REDIS_CLUSTER_NODES`
 * ("host:port,host:port,...").
 *
 * @example
 * await runClusterCounterWorker((cluster) => new RedisSpinLockBackend(cluster));
 */
export async function runClusterCounterWorker(
  createBackend: (cluster: Cluster) => LockBackend,
): Promise<void> {
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
        backends: { main: createBackend(cluster) },
        key,
        counterFile: counterFiles[index]!,
        iterations: Number(process.env.ITERATIONS),
        lockOptions: { retry: { waitMs: 60_000 } },
      }),
    ),
  );
  await cluster.quit();
}
