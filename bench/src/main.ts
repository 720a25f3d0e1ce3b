/**
 * `pnpm bench [--quick]`: dlock's backends side by side with redlock and redis-semaphore.
 * Prints a markdown table, writes docs/benchmarks/results.md and commands-and-throughput.svg, and
 * exits non-zero only if a dlock backend failed the mutual-exclusion check.
 *
 * Flags (for development, see bench-arguments.ts): --quick, --no-write, --libraries=a,b,
 * --waiters=4,16, --holds=0,5, --no-network, --no-scale, --no-semaphore, --save-json=path (keep the
 * raw results), --from-json=path (render saved results without measuring).
 */
import 'reflect-metadata';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PrivateRedisServer } from '@dlock/testing/servers';
import { Redis } from 'ioredis';
import { flagValue, planFromArguments } from './bench-arguments.js';
import { type BenchRedisCluster, startBenchRedisCluster } from './bench-redis-cluster.js';
import { type BenchResults, exclusionFailures } from './bench-results.js';
import {
  type ContentionRuns,
  rotationCounter,
  runContentionMatrix,
  runNetworkRounds,
  runScaleRounds,
  runSemaphoreRounds,
} from './contention-runs.js';
import { runDecoratorOverhead } from './decorator-scenario.js';
import { library } from './library-catalog.js';
import type { LibraryId, StoreUrls } from './lock-adapter.js';
import { describeMachine } from './machine-info.js';
import { runMemoryScenario } from './memory-scenario.js';
import { monotonicMs } from './monotonic-clock.js';
import { installRedisCommandCounter } from './redis-command-counter.js';
import { writeResults } from './results-writer.js';
import { runUncontended } from './uncontended-scenario.js';
import { WorkerPool } from './worker-pool.js';

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** Print the table, write the page and chart, and say whether a dlock backend broke exclusion. */
async function report(results: BenchResults, write: boolean): Promise<number> {
  const savePath = flagValue(process.argv, 'save-json');
  if (savePath) {
    await writeFile(savePath, JSON.stringify({ ...results, unavailable: [...results.unavailable] }, null, 1));
  }
  const { markdown, directory } = await writeResults(results, write);
  process.stdout.write(`${markdown}\n`);
  if (directory) log(`wrote ${directory}results.md and the chart`);
  const { failures, dlockFailed } = exclusionFailures([
    ...results.contention,
    ...(results.network ?? []),
    ...(results.semaphore ?? []),
  ]);
  for (const failure of failures) {
    const what = failure.permits === undefined ? 'mutual exclusion' : `the ${failure.permits}-permit limit`;
    log(`${what} FAILED: ${failure.library} W=${failure.waiters} hold=${failure.holdMs} ms`);
  }
  return dlockFailed ? 1 : 0;
}

async function main(): Promise<number> {
  const startedAt = monotonicMs();
  const { plan, write } = planFromArguments(process.argv.slice(2));
  const fromJson = flagValue(process.argv, 'from-json');
  if (fromJson) {
    const saved = JSON.parse(await readFile(fromJson, 'utf8')) as BenchResults & {
      unavailable: [LibraryId, string][];
    };
    return report({ ...saved, unavailable: new Map(saved.unavailable) }, write);
  }
  installRedisCommandCounter();
  const clusterLibraries = [...new Set([...plan.contentionLibraries, ...plan.uncontended.libraries])].filter(
    (id) => library(id).redisCluster,
  );
  log(
    `dlock bench (${plan.mode}): starting a private redis-server${clusterLibraries.length > 0 ? ', a private 3-master Redis Cluster' : ''} and ${plan.processes} worker processes`,
  );
  const server = await PrivateRedisServer.start();
  const pool = WorkerPool.start(plan.processes);
  const statsRedis = new Redis(server.url);
  const floorRedis = new Redis(server.url);
  const tmpDir = await mkdtemp(join(tmpdir(), 'dlock-bench-'));
  const unavailable = new Map<LibraryId, string>();
  const markUnavailable = (id: LibraryId, reason: string) => {
    if (!unavailable.has(id)) log(`  ${id}: not measured (${reason})`);
    unavailable.set(id, reason);
  };
  let cluster: BenchRedisCluster | undefined;
  if (clusterLibraries.length > 0) {
    try {
      cluster = await startBenchRedisCluster();
    } catch (error) {
      const reason = `the private Redis Cluster did not start: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`;
      for (const id of clusterLibraries) markUnavailable(id, reason);
    }
  }
  const urls: StoreUrls = {
    redisUrl: server.url,
    mysqlUrl: process.env.MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test',
    ...(cluster ? { redisClusterNodes: cluster.startupNodes } : {}),
  };
  const clusterStatsNodes = cluster?.statsNodes ?? [];
  try {
    const machine = await describeMachine(statsRedis, urls.mysqlUrl);
    log('uncontended acquire+release and round-trip floors ...');
    const uncontended = await runUncontended(
      { urls, statsRedis, clusterStatsNodes, floorRedis },
      plan.uncontended,
      markUnavailable,
    );
    log('decorator overhead (MemoryLockBackend) ...');
    const decorator = await runDecoratorOverhead(plan.decorator);

    const runs: ContentionRuns = {
      context: { pool, urls, statsRedis, clusterStatsNodes, tmpDir },
      plan,
      runId: `${process.pid}-${Date.now().toString(36)}`,
      log,
      unavailable,
      markUnavailable,
      rotation: rotationCounter(),
    };
    const contention = await runContentionMatrix(runs);
    const network = await runNetworkRounds(runs, server.url);
    const scale = await runScaleRounds(runs);
    const semaphore = await runSemaphoreRounds(runs);

    log('memory per held lock, waiter and released key ...');
    const memory = await runMemoryScenario({ redisUrl: server.url, statsRedis }, plan.memory, log);

    const results: BenchResults = {
      memory,
      network,
      scale,
      semaphore,
      plan,
      machine,
      uncontended,
      contention,
      decorator,
      unavailable,
      durationSec: (monotonicMs() - startedAt) / 1000,
    };
    return await report(results, write);
  } finally {
    statsRedis.disconnect();
    floorRedis.disconnect();
    await pool.stop();
    await cluster?.stop();
    await server.stop();
    await rm(tmpDir, { recursive: true, force: true });
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error);
    process.exitCode = 2;
  },
);
