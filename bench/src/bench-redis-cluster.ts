import { PrivateRedisCluster } from '@dlock/testing/servers';
import type { Redis } from 'ioredis';

/** The private Redis Cluster the cluster rows run on. */
export interface BenchRedisCluster {
  /** `host:port,host:port,...`, passed to the worker processes in `StoreUrls.redisClusterNodes`. */
  readonly startupNodes: string;
  /** One plain connection per master, for `INFO commandstats` (closed by `stop()`). */
  readonly statsNodes: readonly Redis[];
  /** Stop every node (by PID) and wait for them to exit. */
  stop(): Promise<void>;
}

/** Masters of the bench cluster: the smallest real cluster, keys spread over three shards. */
const MASTERS = 3;

/**
 * Start a throwaway 3-master Redis Cluster on free loopback ports (no replicas, no persistence),
 * through `PrivateRedisCluster` from `@dlock/testing/servers`. Like the single private server it never
 * touches the shared Redis, so `INFO commandstats` on its nodes counts only this run.
 *
 * If the bench dies before `stop()` runs, an `exit` hook still SIGKILLs the nodes by the PIDs they
 * report (`INFO server`), so no `redis-server` outlives the run.
 *
 * @example
 * const cluster = await startBenchRedisCluster();
 * try { ... new Cluster(...cluster.startupNodes...) ... } finally { await cluster.stop(); }
 */
export async function startBenchRedisCluster(): Promise<BenchRedisCluster> {
  const cluster = await PrivateRedisCluster.start(MASTERS);
  let pids: number[] = [];
  const killOnExit = () => {
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  };
  process.once('exit', killOnExit);
  try {
    const statsNodes = Array.from({ length: cluster.size }, (_, index) => cluster.node(index));
    pids = await Promise.all(statsNodes.map(serverPid));
    return {
      startupNodes: cluster.startupNodes,
      statsNodes,
      stop: async () => {
        process.off('exit', killOnExit);
        await cluster.stop();
      },
    };
  } catch (error) {
    process.off('exit', killOnExit);
    await cluster.stop();
    throw error;
  }
}

async function serverPid(node: Redis): Promise<number> {
  const match = /process_id:(\d+)/.exec(await node.info('server'));
  if (!match) throw new Error('INFO server did not report process_id');
  return Number(match[1]);
}
