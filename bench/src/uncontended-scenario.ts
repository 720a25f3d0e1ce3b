import type { Redis } from 'ioredis';
import { createConnection } from 'mysql2/promise';
import { library } from './library-catalog.js';
import type { LibraryId, LockAdapter, StoreUrls } from './lock-adapter.js';
import { monotonicMs } from './monotonic-clock.js';
import { redisCommandsSent } from './redis-command-counter.js';
import { executedBetween, readCommandStats, readServerCpuUs } from './redis-command-stats.js';
import { mean, percentile, rotate } from './sample-stats.js';

/** A row of the uncontended table: a raw round-trip floor or one library's acquire+release. */
export interface UncontendedRow {
  readonly id: LibraryId | 'redis-floor' | 'redis-floor-2' | 'mysql-floor';
  readonly label: string;
  readonly store: 'redis' | 'mysql' | 'memory';
  readonly iterations: number;
  readonly p50Us: number;
  readonly p99Us: number;
  readonly meanUs: number;
  /** Redis commands sent per operation (client side); `NaN` off Redis. */
  readonly sentPerOp: number;
  /** Redis commands executed per operation (server side, counts calls inside scripts). */
  readonly executedPerOp: number;
  /** Time Redis spent in this probe's commands per operation, µs (`INFO commandstats` usec; scripts include what they call). */
  readonly commandUsecPerOp?: number;
  /** Redis server CPU (user + system, `INFO cpu`) per operation, µs: parsing, replies and network too. */
  readonly serverCpuUsPerOp?: number;
}

interface Probe {
  readonly id: UncontendedRow['id'];
  readonly label: string;
  readonly store: UncontendedRow['store'];
  /** Runs on the private Redis Cluster: its commands are counted on every node. */
  readonly onCluster: boolean;
  /** One measured operation. */
  readonly once: () => Promise<void>;
  readonly close: () => Promise<void>;
}

export interface UncontendedPlan {
  readonly libraries: readonly LibraryId[];
  readonly rounds: number;
  readonly iterationsPerRound: number;
}

/**
 * Latency of one acquire+release on a free key, next to the raw round trip of one Redis command
 * (GET) and of MySQL `SELECT 1`. Runs in this process. Latency is sampled interleaved: every
 * iteration runs each probe once, in an order that rotates per iteration, so drift (CPU frequency
 * and idle states, a neighbour's load) hits every probe alike and the round-trip ratios stay honest.
 * Commands per operation are counted in a separate block per probe.
 *
 * @example
 * const rows = await runUncontended({ urls, statsRedis, clusterStatsNodes, floorRedis }, plan, onUnavailable);
 */
export async function runUncontended(
  context: {
    readonly urls: StoreUrls;
    readonly statsRedis: Redis;
    /** One plain connection per node of the private Redis Cluster (empty without one). */
    readonly clusterStatsNodes: readonly Redis[];
    readonly floorRedis: Redis;
  },
  plan: UncontendedPlan,
  onUnavailable: (id: LibraryId, reason: string) => void,
): Promise<UncontendedRow[]> {
  const probes = await createProbes(context, plan.libraries, onUnavailable);
  const samples = new Map<string, number[]>(probes.map((probe) => [probe.id, []]));
  const sent = new Map<string, number>();
  const executed = new Map<string, number>();
  const commandUsec = new Map<string, number>();
  const serverCpu = new Map<string, number>();
  const countedOps = Math.min(100, plan.iterationsPerRound);
  // CPU is read in a longer block of its own: getrusage resolution and the INFO call itself.
  const cpuOps = 10 * countedOps;
  try {
    for (const probe of probes) for (let index = 0; index < 50; index++) await probe.once();
    const iterations = plan.rounds * plan.iterationsPerRound;
    for (let iteration = 0; iteration < iterations; iteration++) {
      for (const probe of rotate(probes, iteration)) {
        const startedAt = monotonicMs();
        await probe.once();
        samples.get(probe.id)!.push(monotonicMs() - startedAt);
      }
    }
    for (const probe of probes) {
      const statsServers = probe.onCluster ? context.clusterStatsNodes : context.statsRedis;
      const statsBefore = probe.store === 'redis' ? await readCommandStats(statsServers) : undefined;
      const sentBefore = redisCommandsSent();
      for (let index = 0; index < countedOps; index++) await probe.once();
      sent.set(probe.id, redisCommandsSent() - sentBefore);
      if (statsBefore) {
        const statsAfter = await readCommandStats(statsServers);
        executed.set(probe.id, executedBetween(statsBefore.calls, statsAfter.calls));
        // usec of top-level work: scripts (which include the commands they call) + plain commands
        // sent by the client; commands called inside scripts are not added twice.
        const scriptCalls = executedBetween(
          new Map([...statsBefore.calls].filter(([name]) => name === 'evalsha' || name === 'eval')),
          new Map([...statsAfter.calls].filter(([name]) => name === 'evalsha' || name === 'eval')),
        );
        const scriptUsec = executedBetween(
          new Map([...statsBefore.usec].filter(([name]) => name === 'evalsha' || name === 'eval')),
          new Map([...statsAfter.usec].filter(([name]) => name === 'evalsha' || name === 'eval')),
        );
        const allUsec = executedBetween(statsBefore.usec, statsAfter.usec);
        // Without scripts every executed command was sent: all usec count. With scripts, count the
        // scripts plus (sent - scripts) plain commands at their average usec.
        const plainSent = (sent.get(probe.id) ?? 0) - scriptCalls;
        const otherCalls = executedBetween(statsBefore.calls, statsAfter.calls) - scriptCalls;
        const otherUsec = allUsec - scriptUsec;
        const plainUsec = otherCalls > 0 ? (otherUsec / otherCalls) * Math.min(plainSent, otherCalls) : 0;
        commandUsec.set(probe.id, scriptCalls > 0 ? scriptUsec + plainUsec : allUsec);
        const cpuBefore = await readServerCpuUs(statsServers);
        for (let index = 0; index < cpuOps; index++) await probe.once();
        serverCpu.set(probe.id, (await readServerCpuUs(statsServers)) - cpuBefore);
      }
    }
  } finally {
    for (const probe of probes) await probe.close();
  }
  return probes.map((probe) => {
    const latencies = samples.get(probe.id)!;
    const operations = latencies.length;
    const onRedis = probe.store === 'redis';
    return {
      id: probe.id,
      label: probe.label,
      store: probe.store,
      iterations: operations,
      p50Us: percentile(latencies, 50) * 1000,
      p99Us: percentile(latencies, 99) * 1000,
      meanUs: mean(latencies) * 1000,
      sentPerOp: onRedis ? (sent.get(probe.id) ?? 0) / countedOps : Number.NaN,
      executedPerOp: onRedis ? (executed.get(probe.id) ?? 0) / countedOps : Number.NaN,
      commandUsecPerOp: onRedis ? (commandUsec.get(probe.id) ?? 0) / countedOps : Number.NaN,
      serverCpuUsPerOp: onRedis ? (serverCpu.get(probe.id) ?? 0) / cpuOps : Number.NaN,
    };
  });
}

async function createProbes(
  context: { readonly urls: StoreUrls; readonly floorRedis: Redis },
  libraries: readonly LibraryId[],
  onUnavailable: (id: LibraryId, reason: string) => void,
): Promise<Probe[]> {
  const { floorRedis } = context;
  const probes: Probe[] = [
    {
      id: 'redis-floor',
      label: 'raw Redis round trip (GET)',
      store: 'redis',
      onCluster: false,
      once: async () => {
        await floorRedis.get('bench:floor');
      },
      close: async () => {},
    },
    {
      id: 'redis-floor-2',
      label: '2 raw Redis round trips',
      store: 'redis',
      onCluster: false,
      once: async () => {
        await floorRedis.get('bench:floor');
        await floorRedis.get('bench:floor');
      },
      close: async () => {},
    },
  ];
  const needsMySql = libraries.some((id) => library(id).store === 'mysql');
  if (needsMySql) {
    try {
      const connection = await createConnection(context.urls.mysqlUrl);
      probes.push({
        id: 'mysql-floor',
        label: 'raw MySQL round trip (SELECT 1)',
        store: 'mysql',
        onCluster: false,
        once: async () => {
          await connection.query('SELECT 1');
        },
        close: () => connection.end(),
      });
    } catch (error) {
      onUnavailable('dlock-mysql', `MySQL unreachable: ${String(error)}`);
    }
  }
  for (const id of libraries) {
    const created = await library(id).create(context.urls);
    if ('unavailable' in created) {
      onUnavailable(id, created.unavailable);
      continue;
    }
    probes.push(lockProbe(created, id));
  }
  return probes;
}

function lockProbe(adapter: LockAdapter, id: LibraryId): Probe {
  const descriptor = library(id);
  const key = `bench:uncontended:${id}:${process.pid}`;
  return {
    id,
    label: descriptor.label,
    store: descriptor.store,
    onCluster: descriptor.redisCluster === true,
    once: async () => {
      const release = await adapter.acquire(key, 1_000);
      await release();
    },
    close: () => adapter.close(),
  };
}
