// Adds one replica per master to a PrivateRedisCluster, so a test can SIGKILL a master and watch its
// replica take over. Every process started here is stopped by PID in stop().
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, type PrivateRedisCluster } from '@dlock/testing/servers';
import { Redis } from 'ioredis';

interface ReplicaNode {
  readonly port: number;
  readonly dir: string;
  readonly process: ChildProcess;
  readonly client: Redis;
}

export class ClusterReplicas {
  readonly #replicas: ReplicaNode[];

  private constructor(replicas: ReplicaNode[]) {
    this.#replicas = replicas;
  }

  /** Start one replica per master of `cluster` and wait until each is attached and known to all. */
  static async add(cluster: PrivateRedisCluster): Promise<ClusterReplicas> {
    const replicas: ReplicaNode[] = [];
    const added = new ClusterReplicas(replicas);
    try {
      const masterPorts = cluster.startupNodes.split(',').map((node) => Number(node.split(':')[1]));
      for (let index = 0; index < masterPorts.length; index++) {
        const port = await freePort();
        const dir = mkdtempSync(join(tmpdir(), 'dlock-cluster-replica-'));
        const child = spawn(
          'redis-server',
          [
            ...['--port', String(port), '--bind', '127.0.0.1', '--dir', dir],
            ...['--cluster-enabled', 'yes', '--cluster-config-file', join(dir, 'nodes.conf')],
            // Fail over 2 s after a master stops answering, whatever the replica's data age.
            ...['--cluster-node-timeout', '2000', '--cluster-replica-validity-factor', '0'],
            ...['--save', '', '--appendonly', 'no'],
          ],
          { stdio: 'ignore' },
        );
        const client = new Redis(port, '127.0.0.1', { retryStrategy: () => 50 });
        client.on('error', () => {});
        replicas.push({ port, dir, process: child, client });
        await until(async () => (await client.ping()) === 'PONG');
        const master = cluster.node(index);
        // Redis waits 5 s for more replicas before a diskless full sync; one is all there is.
        await master.config('SET', 'repl-diskless-sync-delay', '0');
        const masterId = (await master.cluster('MYID')) as string;
        await client.cluster('MEET', '127.0.0.1', masterPorts[index]!);
        await until(async () => (await client.cluster('REPLICATE', masterId)) === 'OK');
        await until(async () => String(await client.info('replication')).includes('master_link_status:up'));
      }
      // Every master must know every replica before a failover election can succeed.
      const replicaIds = (await Promise.all(
        replicas.map((replica) => replica.client.cluster('MYID')),
      )) as string[];
      for (let index = 0; index < masterPorts.length; index++) {
        const master = cluster.node(index);
        await until(async () => {
          const nodes = String(await master.cluster('NODES'));
          return replicaIds.every((id) => nodes.includes(`${id} `)) && !/fail|handshake/.test(nodes);
        });
      }
    } catch (error) {
      await added.stop();
      throw error;
    }
    return added;
  }

  /** The replica of master `index` (a connection closed by stop()). */
  replica(index: number): Redis {
    return this.#replicas[index]!.client;
  }

  async stop(): Promise<void> {
    for (const replica of this.#replicas.splice(0)) {
      replica.client.disconnect();
      const child = replica.process;
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        process.kill(child.pid!, 'SIGKILL');
        await exited;
      }
      rmSync(replica.dir, { recursive: true, force: true });
    }
  }
}

/** Poll `check` (errors count as "not yet") every 50 ms, for up to 20 s. */
async function until(check: () => Promise<boolean>): Promise<void> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 400; attempt++) {
    try {
      if (await check()) return;
    } catch (error) {
      lastError = error;
    }
    await sleep(50);
  }
  throw new Error(`cluster replica setup timed out${lastError ? `: ${String(lastError)}` : ''}`);
}
