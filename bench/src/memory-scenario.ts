import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { type LockBackend, LockManager, MemoryLockBackend } from '@dlock/core';
import { RedisPubSubLockBackend } from '@dlock/redis-pubsub';
import { RedisSpinLockBackend } from '@dlock/redis-spin';
import { Redis } from 'ioredis';
import { Mutex } from 'redis-semaphore';
import { BENCH_LEASE_MS } from './lock-adapter.js';
import { monotonicMs } from './monotonic-clock.js';
import { executedBetween, readCommandCalls, readServerCpuUs } from './redis-command-stats.js';

/** How many locks and waiters the memory and scale scenario holds at once. */
export interface MemoryPlan {
  /** Locks held at once in one process (distinct keys). */
  readonly heldLocks: number;
  /** Callers waiting at once in one process (local FIFO on one key; backend waiters on distinct keys). */
  readonly waiters: number;
}

/** One row of the memory table. */
export interface MemoryRow {
  readonly label: string;
  readonly dlock: boolean;
  readonly heldLocks: number;
  /** Client heap per held lock, bytes (after GC). */
  readonly heapPerHeldLock: number;
  /** Client heap per caller waiting in this process's local queue (one key held), bytes. */
  readonly heapPerLocalWaiter?: number;
  /** Client heap per caller waiting in the backend on its own key (subscription + queue entry), bytes. */
  readonly heapPerBackendWaiter?: number;
  /** Subscribed channels while those backend waiters wait (pub/sub), and after they are done. */
  readonly subscriptionsWhileWaiting?: number;
  readonly subscriptionsAfter?: number;
  /** Redis memory per held lock, bytes (`used_memory` delta). */
  readonly redisPerHeldLock?: number;
  /** Redis memory per released key right after release, bytes. */
  readonly redisPerReleasedKey?: number;
  /** Redis keys left per released key right after release. */
  readonly keysPerReleasedKey?: number;
  /** Client heap per released key after release (what stays in the process), bytes. */
  readonly heapPerReleasedKey: number;
  /** Redis commands executed / server CPU µs per acquisition while taking the held locks. */
  readonly executedPerAcquisition?: number;
  readonly serverCpuUsPerAcquisition?: number;
}

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

async function settledHeap(): Promise<number> {
  for (let round = 0; round < 4; round++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
  return process.memoryUsage().heapUsed;
}

async function usedMemory(redis: Redis): Promise<number> {
  return Number(/used_memory:(\d+)/.exec(await redis.info('memory'))![1]);
}

interface Holder {
  acquire(key: string): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

function managerHolder(manager: LockManager<string>): Holder {
  return {
    async acquire(key) {
      const handle = await manager.acquire(key, { leaseMs: BENCH_LEASE_MS });
      return () => handle.release();
    },
    close: () => manager.close(),
  };
}

/**
 * Heap and Redis memory per held lock, per waiter and per released key, in this process, for
 * dlock's backends and (held locks only) redis-semaphore: hold `heldLocks` locks on distinct keys,
 * release them, and compare GC-settled heap and `used_memory` with the baseline. Also the cost curve
 * of holding many: Redis commands and server CPU per acquisition while taking them.
 *
 * @example
 * const rows = await runMemoryScenario({ redisUrl, statsRedis }, { heldLocks: 10_000, waiters: 10_000 });
 */
export async function runMemoryScenario(
  context: { readonly redisUrl: string; readonly statsRedis: Redis },
  plan: MemoryPlan,
  log: (line: string) => void,
): Promise<MemoryRow[]> {
  const rows: MemoryRow[] = [];
  const { statsRedis } = context;
  const dlockBackends: [string, (client: Redis) => LockBackend, boolean][] = [
    ['dlock pub/sub', (client) => new RedisPubSubLockBackend(client, { subscriptionLingerMs: 50 }), true],
    ['dlock spin', (client) => new RedisSpinLockBackend(client), true],
    ['dlock memory', () => new MemoryLockBackend(), false],
  ];
  for (const [label, create, onRedis] of dlockBackends) {
    log(`  memory: ${label}`);
    const client = new Redis(context.redisUrl);
    const otherClient = new Redis(context.redisUrl);
    const backend = create(client);
    const manager = new LockManager({ backends: { lock: backend } });
    const otherBackend = create(otherClient);
    const other = new LockManager({ backends: { lock: otherBackend } });
    try {
      const held = await measureHeld(
        managerHolder(manager),
        `mem:${label}`,
        plan.heldLocks,
        statsRedis,
        onRedis,
      );
      // Local waiters: one key held, `waiters` callers of this process queue behind it.
      const key = `mem:${label}:local`;
      const holder = await manager.acquire(key, { leaseMs: BENCH_LEASE_MS });
      const beforeLocal = await settledHeap();
      const local = Array.from({ length: plan.waiters }, () =>
        manager.acquire(key, { leaseMs: BENCH_LEASE_MS, retry: { waitMs: 120_000 } }),
      );
      await new Promise((resolve) => setTimeout(resolve, 200));
      const heapPerLocalWaiter = ((await settledHeap()) - beforeLocal) / plan.waiters;
      await holder.release();
      for (const pending of local) await (await pending).release();
      // Backend waiters: `other` waits for keys `manager` holds, one waiter per key.
      const backendWaiters = Math.min(plan.waiters, 2_000);
      const keys = Array.from({ length: backendWaiters }, (_, index) => `mem:${label}:remote:${index}`);
      const holds = await Promise.all(keys.map((name) => manager.acquire(name, { leaseMs: BENCH_LEASE_MS })));
      const beforeRemote = await settledHeap();
      const remote = keys.map((name) =>
        other.acquire(name, { leaseMs: BENCH_LEASE_MS, retry: { waitMs: 120_000 } }),
      );
      await new Promise((resolve) => setTimeout(resolve, 500));
      const heapPerBackendWaiter = ((await settledHeap()) - beforeRemote) / backendWaiters;
      const subscriptionsWhileWaiting =
        otherBackend instanceof RedisPubSubLockBackend ? otherBackend.subscribedChannelCount : undefined;
      for (const lock of holds) await lock.release();
      for (const pending of remote) await (await pending).release();
      await new Promise((resolve) => setTimeout(resolve, 300));
      rows.push({
        label,
        dlock: true,
        ...held,
        heapPerLocalWaiter,
        heapPerBackendWaiter: onRedis ? heapPerBackendWaiter : undefined,
        subscriptionsWhileWaiting,
        subscriptionsAfter:
          otherBackend instanceof RedisPubSubLockBackend ? otherBackend.subscribedChannelCount : undefined,
      });
    } finally {
      await manager.close();
      await other.close();
      client.disconnect();
      otherClient.disconnect();
    }
  }
  log('  memory: redis-semaphore');
  const client = new Redis(context.redisUrl);
  try {
    const semaphore: Holder = {
      async acquire(key) {
        const mutex = new Mutex(client, key, { lockTimeout: BENCH_LEASE_MS, refreshInterval: 0 });
        await mutex.acquire();
        return () => mutex.release();
      },
      close: async () => {},
    };
    rows.push({
      label: 'redis-semaphore',
      dlock: false,
      ...(await measureHeld(semaphore, 'mem:redis-semaphore', plan.heldLocks, statsRedis, true)),
    });
  } finally {
    client.disconnect();
  }
  return rows;
}

async function measureHeld(
  holder: Holder,
  prefix: string,
  count: number,
  statsRedis: Redis,
  onRedis: boolean,
): Promise<
  Pick<
    MemoryRow,
    | 'heldLocks'
    | 'heapPerHeldLock'
    | 'redisPerHeldLock'
    | 'redisPerReleasedKey'
    | 'keysPerReleasedKey'
    | 'heapPerReleasedKey'
    | 'executedPerAcquisition'
    | 'serverCpuUsPerAcquisition'
  >
> {
  // Warm-up: scripts loaded, connections and code paths hot, so the baseline is steady.
  for (let index = 0; index < 200; index++) await (await holder.acquire(`${prefix}:warm:${index}`))();
  const keysBefore = await statsRedis.dbsize();
  const memoryBefore = await usedMemory(statsRedis);
  const callsBefore = await readCommandCalls(statsRedis);
  const cpuBefore = await readServerCpuUs(statsRedis);
  const heapBefore = await settledHeap();
  const releases: (() => Promise<void>)[] = [];
  const startedAt = monotonicMs();
  for (let start = 0; start < count; start += 100) {
    const batch = Array.from({ length: Math.min(100, count - start) }, (_, index) =>
      holder.acquire(`${prefix}:held:${start + index}`),
    );
    releases.push(...(await Promise.all(batch)));
  }
  void startedAt;
  const executed = executedBetween(callsBefore, await readCommandCalls(statsRedis));
  const cpu = (await readServerCpuUs(statsRedis)) - cpuBefore;
  const heapHeld = await settledHeap();
  const memoryHeld = await usedMemory(statsRedis);
  for (const release of releases) await release();
  releases.length = 0;
  const heapAfter = await settledHeap();
  return {
    heldLocks: count,
    heapPerHeldLock: (heapHeld - heapBefore) / count,
    heapPerReleasedKey: (heapAfter - heapBefore) / count,
    ...(onRedis
      ? {
          redisPerHeldLock: (memoryHeld - memoryBefore) / count,
          redisPerReleasedKey: ((await usedMemory(statsRedis)) - memoryBefore) / count,
          keysPerReleasedKey: ((await statsRedis.dbsize()) - keysBefore) / count,
          executedPerAcquisition: executed / count,
          serverCpuUsPerAcquisition: cpu / count,
        }
      : {}),
  };
}
