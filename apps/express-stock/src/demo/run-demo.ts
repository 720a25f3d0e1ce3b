// `pnpm demo`: two app servers race to sell the same 100 items under each locking strategy.
import 'reflect-metadata';
import type { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import { loadAppConfig } from '../config/app-config.js';
import { RaceStock } from '../race/race-stock-entity.js';
import { RACE_STRATEGIES, type RaceStrategy } from '../race/race-strategies.js';
import { connectAppDataSource, connectRedis, StoreUnreachableError } from '../server/store-connections.js';
import { storeStartHint } from '../server/store-start-hint.js';
import { type AppProcess, startAppProcess } from './app-process.js';
import { formatRaceTable, isExact, type RaceResult } from './demo-table.js';
import { commandDelta, readCommandCounts, sentAndExecuted } from './redis-command-stats.js';

const INITIAL_STOCK = 100;
const REQUESTS = 100;
const DLOCK_STRATEGIES: readonly RaceStrategy[] = ['mysql', 'spin', 'pubsub'];
/** Each run races fresh rows of the demo's own race_stock table. */
const RUN_ID = Date.now().toString(36);

const config = loadAppConfig({ ...process.env, PORT: '0' });
const servers: AppProcess[] = [];
let redis: Redis | undefined;
let dataSource: DataSource | undefined;

process.once('SIGINT', () => {
  void cleanUp().then(() => process.exit(130));
});

try {
  process.exitCode = await main();
} catch (error) {
  reportFailure(error);
  process.exitCode = 1;
} finally {
  await cleanUp();
}

async function main(): Promise<number> {
  console.log(
    'dlock demo: 2 app servers, stock of 100, 100 concurrent "decrease by 1" requests per strategy\n',
  );
  // Both at once, so that when both are down the user hears about both. The servers create the
  // app's tables (migrations, under a lock); this pool only reads the race rows.
  const [redisResult, mysqlResult] = await Promise.allSettled([
    connectRedis(config.redisUrl),
    connectAppDataSource({ ...config, appPoolSize: 2 }),
  ]);
  if (redisResult.status === 'fulfilled') redis = redisResult.value;
  if (mysqlResult.status === 'fulfilled') dataSource = mysqlResult.value;
  if (redisResult.status === 'rejected' && mysqlResult.status === 'rejected')
    reportFailure(redisResult.reason);
  if (mysqlResult.status === 'rejected') throw mysqlResult.reason;
  if (redisResult.status === 'rejected') throw redisResult.reason;
  if (!redis || !dataSource) throw new Error('unreachable: both stores connected');

  const serverEnv = {
    REDIS_URL: config.redisUrl,
    MYSQL_URL: config.mysqlUrl,
    TABLE_PREFIX: config.tablePrefix,
    STOCK_WORK_MS: String(config.stockWorkMs),
    // Waiting lock for the race: long enough for 100 requests to pass one at a time.
    STOCK_LOCK_WAIT_MS: '30000',
    LOG_LEVEL: 'info',
  };
  servers.push(...(await Promise.all([startAppProcess(serverEnv), startAppProcess(serverEnv)])));
  console.log(`servers: ${servers.map((server) => `${server.url} (pid ${server.pid})`).join(', ')}\n`);

  const results: RaceResult[] = [];
  for (const strategy of RACE_STRATEGIES) {
    const result = await race(strategy, redis, dataSource);
    results.push(result);
    console.log(`  ${strategy.padEnd(7)} done in ${result.wallMs} ms`);
  }

  console.log(`\n${formatRaceTable(results)}\n`);
  for (const result of results) {
    const top = result.topRedisCommands.slice(0, 4).map(([name, calls]) => `${name} ${calls}`);
    console.log(`  ${result.strategy.padEnd(7)} Redis: ${top.length ? top.join(', ') : '-'}`);
  }
  console.log(
    '\nnone:   every server reads, waits, writes; concurrent writes overwrite each other.' +
      '\nlocal:  an in-process mutex serializes each server, but the two servers still overlap.' +
      '\nmysql, spin, pubsub: one dlock key "race:<strategy>:<product>" on that store, shared by both servers; exact.' +
      '\n(Redis counts are server-wide INFO commandstats deltas: other clients of this Redis add noise.)',
  );

  const wrong = results.filter((result) => result.mustBeExact && !isExact(result));
  if (wrong.length > 0) {
    console.error(`\nFAILED: ${wrong.map((result) => result.strategy).join(', ')} did not end exact.`);
    return 1;
  }
  console.log('\nAll dlock strategies ended exact.');
  return 0;
}

function reportFailure(error: unknown): void {
  if (error instanceof StoreUnreachableError) {
    console.error(`\n${error.message}\n\n${storeStartHint(error.store)}\n`);
    return;
  }
  console.error(error);
  for (const server of servers)
    console.error(`--- output of server pid ${server.pid} ---\n${server.output()}`);
}

async function race(strategy: RaceStrategy, redis: Redis, dataSource: DataSource): Promise<RaceResult> {
  const productId = `demo-${RUN_ID}`;
  const path = `/race/${strategy}/stocks/${productId}`;
  await sendJson(servers[0]!, 'PUT', path, { quantity: INITIAL_STOCK });
  const before = await readCommandCounts(redis);
  const startedAt = performance.now();
  const statuses = await Promise.all(
    Array.from({ length: REQUESTS }, async (_, index) => {
      const server = servers[index % servers.length]!;
      try {
        const response = await fetch(`${server.url}${path}/decrease`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ quantity: 1 }),
        });
        await response.arrayBuffer();
        return response.status;
      } catch {
        return 0;
      }
    }),
  );
  const wallMs = Math.round(performance.now() - startedAt);
  const used = commandDelta(before, await readCommandCounts(redis));
  const { sent, executed } = sentAndExecuted(used);
  const finalStock = (await dataSource.getRepository(RaceStock).findOneByOrFail({ strategy, productId }))
    .quantity;
  const succeeded = statuses.filter((status) => status === 200).length;
  return {
    strategy,
    initialStock: INITIAL_STOCK,
    finalStock,
    succeeded,
    failed: REQUESTS - succeeded,
    lostUpdates: succeeded - (INITIAL_STOCK - finalStock),
    wallMs,
    redisCommandsSent: sent,
    redisCommandsExecuted: executed,
    topRedisCommands: used,
    mustBeExact: DLOCK_STRATEGIES.includes(strategy),
  };
}

async function sendJson(server: AppProcess, method: string, path: string, body: unknown): Promise<void> {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!response.ok)
    throw new Error(`${method} ${path} answered ${response.status}: ${await response.text()}`);
}

async function cleanUp(): Promise<void> {
  const exits = await Promise.all(servers.splice(0).map((server) => server.stop('SIGTERM')));
  for (const exit of exits) {
    if (exit.code !== 0)
      console.error(`a server did not shut down cleanly (code ${exit.code}, signal ${exit.signal})`);
  }
  await dataSource?.destroy().catch(() => {});
  dataSource = undefined;
  await redis?.quit().catch(() => {});
  redis = undefined;
}
