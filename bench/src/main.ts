/**
 * `pnpm bench [--quick]`: dlock's backends side by side with redlock and redis-semaphore.
 * Prints a markdown table, writes docs/benchmarks/results.md and commands-and-throughput.svg, and
 * exits non-zero only if a dlock backend failed the mutual-exclusion check.
 *
 * Flags (for development): --quick, --no-write, --libraries=a,b, --waiters=4,16, --holds=0,5,
 * --save-json=path (keep the raw results), --from-json=path (render saved results without measuring).
 */
import 'reflect-metadata';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FaultyLink } from '@dlock/testing';
import { PrivateRedisServer } from '@dlock/testing/servers';
import { Redis } from 'ioredis';
import { type BenchPlan, benchPlan } from './bench-plan.js';
import { type BenchRedisCluster, startBenchRedisCluster } from './bench-redis-cluster.js';
import { type BenchResults, exclusionFailures } from './bench-results.js';
import { type ContentionMetrics, mergeRounds } from './contention-metrics.js';
import { runContentionRound } from './contention-scenario.js';
import { runDecoratorOverhead } from './decorator-scenario.js';
import { library } from './library-catalog.js';
import type { LibraryId, StoreUrls } from './lock-adapter.js';
import { describeMachine } from './machine-info.js';
import { runMemoryScenario } from './memory-scenario.js';
import { monotonicMs } from './monotonic-clock.js';
import { cell } from './number-format.js';
import { installRedisCommandCounter } from './redis-command-counter.js';
import { writeResults } from './results-writer.js';
import { rotate } from './sample-stats.js';
import { runUncontended } from './uncontended-scenario.js';
import { WorkerPool } from './worker-pool.js';

function planFromArguments(argv: readonly string[]): { plan: BenchPlan; write: boolean } {
  let plan = benchPlan(argv.includes('--quick') ? 'quick' : 'full');
  const list = (name: string) =>
    argv
      .find((argument) => argument.startsWith(`--${name}=`))
      ?.slice(name.length + 3)
      .split(',');
  const libraries = list('libraries') as LibraryId[] | undefined;
  const waiters = list('waiters')?.map(Number);
  const holds = list('holds')?.map(Number);
  if (libraries) {
    plan = {
      ...plan,
      contentionLibraries: plan.contentionLibraries.filter((id) => libraries.includes(id)),
      uncontended: {
        ...plan.uncontended,
        libraries: plan.uncontended.libraries.filter((id) => libraries.includes(id)),
      },
    };
  }
  if (libraries) {
    plan = {
      ...plan,
      network: { ...plan.network, libraries: plan.network.libraries.filter((id) => libraries.includes(id)) },
    };
  }
  if (argv.includes('--no-network')) plan = { ...plan, network: { ...plan.network, libraries: [] } };
  if (libraries) {
    plan = {
      ...plan,
      scale: { ...plan.scale, libraries: plan.scale.libraries.filter((id) => libraries.includes(id)) },
    };
  }
  if (argv.includes('--no-scale')) plan = { ...plan, scale: { ...plan.scale, libraries: [] } };
  if (waiters) plan = { ...plan, waiters };
  if (holds) plan = { ...plan, holdsMs: holds };
  return { plan, write: !argv.includes('--no-write') };
}

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

function flagValue(name: string): string | undefined {
  return process.argv.find((argument) => argument.startsWith(`--${name}=`))?.slice(name.length + 3);
}

/** Print the table, write the page and chart, and say whether a dlock backend broke exclusion. */
async function report(results: BenchResults, write: boolean): Promise<number> {
  const savePath = flagValue('save-json');
  if (savePath) {
    await writeFile(savePath, JSON.stringify({ ...results, unavailable: [...results.unavailable] }, null, 1));
  }
  const { markdown, directory } = await writeResults(results, write);
  process.stdout.write(`${markdown}\n`);
  if (directory) log(`wrote ${directory}results.md and the chart`);
  const { failures, dlockFailed } = exclusionFailures([...results.contention, ...(results.network ?? [])]);
  for (const failure of failures) {
    log(`mutual exclusion FAILED: ${failure.library} W=${failure.waiters} hold=${failure.holdMs} ms`);
  }
  return dlockFailed ? 1 : 0;
}

async function main(): Promise<number> {
  const startedAt = monotonicMs();
  const { plan, write } = planFromArguments(process.argv.slice(2));
  const fromJson = flagValue('from-json');
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

    const runId = `${process.pid}-${Date.now().toString(36)}`;
    const rounds = new Map<string, ContentionMetrics[]>();
    let configuration = 0;
    for (let round = 0; round < plan.contentionRounds; round++) {
      for (const holdMs of plan.holdsMs) {
        for (const waiters of plan.waiters) {
          const libraries = rotate(
            plan.contentionLibraries.filter((id) => !unavailable.has(id)),
            configuration++,
          );
          for (const id of round % 2 === 1 ? libraries.reverse() : libraries) {
            const outcome = await runContentionRound(
              { pool, urls, statsRedis, clusterStatsNodes, tmpDir },
              {
                library: id,
                waiters,
                holdMs,
                warmupMs: plan.warmupMs,
                windowMs: plan.windowMs,
                waitMs: plan.waitMs,
                tag: `${runId}:${id}:w${waiters}:h${holdMs}:r${round}`,
              },
            );
            if ('unavailable' in outcome) {
              markUnavailable(id, outcome.unavailable);
              continue;
            }
            log(
              `  round ${round + 1} W=${waiters} hold=${holdMs} ms ${id}: ${outcome.throughputPerSec.toFixed(0)} acq/s, ` +
                `${cell(outcome.sentPerAcquisition, 1)} cmds/acq, wait p99 ${cell(outcome.waitP99Ms, 1)} ms` +
                (outcome.errors ? `, ${outcome.errors} errors (${outcome.firstErrors[0]})` : '') +
                (outcome.lostUpdates || outcome.overlaps
                  ? `, EXCLUSION FAILED (${outcome.lostUpdates} lost, ${outcome.overlaps} overlaps)`
                  : ''),
            );
            const key = `${id}|${waiters}|${holdMs}`;
            rounds.set(key, [...(rounds.get(key) ?? []), outcome]);
          }
        }
      }
    }
    const contention = [...rounds.values()].map(mergeRounds);

    const network: ContentionMetrics[] = [];
    if (plan.network.libraries.length > 0) {
      const { latencyMs } = plan.network;
      log(`contention through a FaultyLink, ${latencyMs} ms each way ...`);
      const redisAddress = new URL(server.url);
      const mysqlAddress = new URL(urls.mysqlUrl);
      const redisLink = await FaultyLink.start({
        target: { host: redisAddress.hostname, port: Number(redisAddress.port) },
        latency: { upMs: latencyMs, downMs: latencyMs },
      });
      const mysqlLink = await FaultyLink.start({
        target: { host: mysqlAddress.hostname, port: Number(mysqlAddress.port || 3306) },
        latency: { upMs: latencyMs, downMs: latencyMs },
      });
      const linkUrls: StoreUrls = {
        redisUrl: redisLink.url(server.url),
        mysqlUrl: mysqlLink.url(urls.mysqlUrl),
      };
      try {
        for (const holdMs of plan.network.holdsMs) {
          for (const waiters of plan.network.waiters) {
            for (const id of rotate([...plan.network.libraries], configuration++)) {
              if (unavailable.has(id)) continue;
              const outcome = await runContentionRound(
                { pool, urls: linkUrls, statsRedis, clusterStatsNodes, tmpDir },
                {
                  library: id,
                  waiters,
                  holdMs,
                  warmupMs: plan.warmupMs,
                  windowMs: plan.windowMs,
                  waitMs: plan.waitMs,
                  tag: `${runId}:net:${id}:w${waiters}:h${holdMs}`,
                },
              );
              if ('unavailable' in outcome) continue;
              log(
                `  ${latencyMs} ms link W=${waiters} hold=${holdMs} ms ${id}: ${outcome.throughputPerSec.toFixed(0)} acq/s, ` +
                  `handoff p50 ${cell(outcome.handoffP50Ms, 2)} ms, wait p99 ${cell(outcome.waitP99Ms, 1)} ms` +
                  (outcome.lostUpdates || outcome.overlaps ? ', EXCLUSION FAILED' : ''),
              );
              network.push(mergeRounds([outcome]));
            }
          }
        }
      } finally {
        await redisLink.close();
        await mysqlLink.close();
      }
    }

    const scale: ContentionMetrics[] = [];
    if (plan.scale.libraries.length > 0) {
      log(`scale: W=${plan.scale.waiters} over ${plan.scale.keys.join(', ')} keys ...`);
      for (const keys of plan.scale.keys) {
        for (const id of rotate([...plan.scale.libraries], configuration++)) {
          if (unavailable.has(id)) continue;
          const outcome = await runContentionRound(
            { pool, urls, statsRedis, clusterStatsNodes, tmpDir },
            {
              library: id,
              waiters: plan.scale.waiters,
              holdMs: plan.scale.holdMs,
              warmupMs: plan.warmupMs,
              windowMs: plan.windowMs,
              waitMs: plan.waitMs,
              tag: `${runId}:scale:${id}:k${keys}`,
              keys,
            },
          );
          if ('unavailable' in outcome) continue;
          log(
            `  ${keys} keys ${id}: ${outcome.throughputPerSec.toFixed(0)} acq/s, ${cell(outcome.executedPerAcquisition, 1)} executed/acq, ` +
              `${cell(outcome.serverCpuUsPerAcquisition ?? Number.NaN, 1)} Redis CPU µs/acq`,
          );
          scale.push(outcome);
        }
      }
    }

    log('memory per held lock, waiter and released key ...');
    const memory = await runMemoryScenario({ redisUrl: server.url, statsRedis }, plan.memory, log);

    const results: BenchResults = {
      memory,
      network,
      scale,
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
