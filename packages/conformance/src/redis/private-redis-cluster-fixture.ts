import { PrivateRedisCluster } from '@dlock/testing/servers';
import { afterAll, beforeAll } from 'vitest';

/**
 * Start a private Redis Cluster before a test file's tests and stop it (by PID) after them.
 * Returns an accessor, since the cluster exists only once `beforeAll` ran.
 *
 * @example
 * const cluster = usePrivateRedisCluster();
 * it('...', async () => { const client = cluster().client(); });
 */
export function usePrivateRedisCluster(masters = 3): () => PrivateRedisCluster {
  let cluster: PrivateRedisCluster | undefined;
  beforeAll(async () => {
    cluster = await PrivateRedisCluster.start(masters);
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
  });
  return () => {
    if (!cluster)
      throw new Error('The private Redis Cluster is not started yet (use it inside tests or hooks).');
    return cluster;
  };
}
