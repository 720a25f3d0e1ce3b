import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { Cluster, type ClusterOptions, Redis } from 'ioredis';
import { freePort } from './free-port.js';
import { ServerProcess } from './server-process.js';

const run = promisify(execFile);

interface ClusterNode {
  readonly port: number;
  readonly dir: string;
  process: ServerProcess;
}

/**
 * A throwaway Redis Cluster of `masters` nodes (no replicas) on free loopback ports, built with
 * `redis-server --cluster-enabled yes` and `redis-cli --cluster create`. Every process it starts is
 * stopped by PID in `stop()` (or SIGKILLed when the test process exits); it never touches the
 * shared server.
 *
 * @example
 * const cluster = await PrivateRedisCluster.start(3);
 * const client = cluster.client();
 * ...
 * await cluster.stop();
 */
export class PrivateRedisCluster {
  readonly #nodes: ClusterNode[];
  readonly #clients: (Cluster | Redis)[] = [];

  private constructor(nodes: ClusterNode[]) {
    this.#nodes = nodes;
  }

  /**
   * Start `masters` nodes and join them into a cluster covering every slot.
   *
   * @example
   * const cluster = await PrivateRedisCluster.start(3);
   */
  static async start(masters = 3): Promise<PrivateRedisCluster> {
    const nodes: ClusterNode[] = [];
    for (let i = 0; i < masters; i++) {
      const port = await freePort();
      const dir = mkdtempSync(join(tmpdir(), 'dlock-cluster-'));
      nodes.push({ port, dir, process: startNode(port, dir) });
    }
    const cluster = new PrivateRedisCluster(nodes);
    try {
      for (const node of nodes) await waitForPing(node);
      await run(
        'redis-cli',
        ['--cluster', 'create', ...nodes.map((node) => `127.0.0.1:${node.port}`), '--cluster-yes'],
        {
          timeout: 30_000,
        },
      );
      await cluster.#waitUntilHealthy();
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  /**
   * `host:port` of every node, for `new Cluster(...)` in worker processes.
   *
   * @example
   * spawnWorker({ env: { REDIS_CLUSTER_NODES: cluster.startupNodes } });
   */
  get startupNodes(): string {
    return this.#nodes.map((node) => `127.0.0.1:${node.port}`).join(',');
  }

  /**
   * A cluster client (closed by `stop()`); fails fast so tests see errors instead of hanging.
   *
   * @example
   * const client = cluster.client({ scaleReads: 'master' });
   */
  client(options: ClusterOptions = {}): Cluster {
    const client = new Cluster(
      this.#nodes.map((node) => ({ host: '127.0.0.1', port: node.port })),
      { ...options, redisOptions: { maxRetriesPerRequest: 3, ...options.redisOptions } },
    );
    client.on('error', () => {});
    this.#clients.push(client);
    return client;
  }

  /**
   * A plain connection to one node (closed by `stop()`), for INFO and PUBSUB on that shard.
   *
   * @example
   * await cluster.node(0).info('commandstats');
   */
  node(index: number): Redis {
    const client = new Redis(this.#nodes[index]!.port, '127.0.0.1', { lazyConnect: false });
    client.on('error', () => {});
    this.#clients.push(client);
    return client;
  }

  /**
   * The number of nodes.
   *
   * @example
   * for (let index = 0; index < cluster.size; index++) cluster.node(index);
   */
  get size(): number {
    return this.#nodes.length;
  }

  /**
   * Index of the master that owns `key`'s slot.
   *
   * @example
   * await cluster.kill(await cluster.ownerOf('stock:42'));
   */
  async ownerOf(key: string): Promise<number> {
    const admin = this.node(0);
    const slot = (await admin.cluster('KEYSLOT', key)) as number;
    const slots = (await admin.call('CLUSTER', 'SLOTS')) as [number, number, [string, number, string]][];
    const owner = slots.find(([start, end]) => slot >= start && slot <= end);
    return this.#nodes.findIndex((node) => node.port === owner?.[2][1]);
  }

  /**
   * SIGKILL one node by PID and wait for it to exit.
   *
   * @example
   * await cluster.kill(1);
   */
  async kill(index: number): Promise<void> {
    await this.#nodes[index]!.process.kill();
  }

  /**
   * Freeze one node (SIGSTOP by PID); undo with {@link resume}.
   *
   * @example
   * cluster.pause(0);
   */
  pause(index: number): void {
    this.#nodes[index]!.process.freeze();
  }

  /**
   * Continue a paused node (SIGCONT).
   *
   * @example
   * cluster.resume(0);
   */
  resume(index: number): void {
    this.#nodes[index]!.process.thaw();
  }

  /**
   * Disconnect its clients, SIGKILL every node by PID and delete their directories.
   *
   * @example
   * afterAll(() => cluster.stop());
   */
  async stop(): Promise<void> {
    for (const client of this.#clients.splice(0)) client.disconnect();
    for (let index = 0; index < this.#nodes.length; index++) await this.kill(index);
    for (const node of this.#nodes) rmSync(node.dir, { recursive: true, force: true });
  }

  async #waitUntilHealthy(): Promise<void> {
    for (let attempt = 0; attempt < 200; attempt++) {
      const states = await Promise.all(
        this.#nodes.map(async (node) => {
          const probe = new Redis(node.port, '127.0.0.1', { lazyConnect: true, retryStrategy: () => null });
          probe.on('error', () => {});
          try {
            await probe.connect();
            return String(await probe.cluster('INFO')).includes('cluster_state:ok');
          } catch {
            return false;
          } finally {
            probe.disconnect();
          }
        }),
      );
      if (states.every(Boolean)) return;
      await sleep(100);
    }
    throw new Error('the private Redis Cluster did not reach cluster_state:ok');
  }
}

function startNode(port: number, dir: string): ServerProcess {
  return ServerProcess.spawn('redis-server', [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--cluster-enabled',
    'yes',
    '--cluster-config-file',
    join(dir, 'nodes.conf'),
    '--cluster-node-timeout',
    '2000',
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    dir,
  ]);
}

async function waitForPing(node: ClusterNode): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    if (!node.process.running)
      throw new Error(`redis-server on port ${node.port} exited: ${node.process.output}`);
    const probe = new Redis(node.port, '127.0.0.1', { lazyConnect: true, retryStrategy: () => null });
    probe.on('error', () => {});
    try {
      await probe.connect();
      if ((await probe.ping()) === 'PONG') return;
    } catch {
      await sleep(50);
    } finally {
      probe.disconnect();
    }
  }
  throw new Error(`redis-server on port ${node.port} did not answer PING`);
}
