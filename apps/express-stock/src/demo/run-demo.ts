// `pnpm demo`: two app servers race to sell the same 100 items under each locking strategy.
// `pnpm demo --load`: then drive both servers with autocannon per strategy (req/s, latency, stock check).
// `pnpm demo --serve`: then keep both servers running and print the URL of the race page, until Ctrl-C.
import 'reflect-metadata';
import type { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import { In } from 'typeorm';
import { loadAppConfig } from '../config/app-config.js';
import { resetProviderConcurrency } from '../payments/payment-provider.js';
import { PAYMENT_PERMITS } from '../payments/payment-service.js';
import { RaceStock } from '../race/race-stock-entity.js';
import { RACE_STRATEGIES, type RaceStrategy } from '../race/race-strategies.js';
import { connectAppDataSource, connectRedis, StoreUnreachableError } from '../server/store-connections.js';
import { storeStartHint } from '../server/store-start-hint.js';
import { type AppProcess, startAppProcess } from './app-process.js';
import { formatRaceTable, isExact, type RaceResult } from './demo-table.js';
import { formatLoadTable, type LoadResult, runLoadRound } from './load-test.js';
import {
  formatPaymentTable,
  isWithinLimit,
  type PaymentRoundResult,
  runPaymentRound,
} from './payment-round.js';
import { commandDelta, readCommandCounts, sentAndExecuted } from './redis-command-stats.js';

const INITIAL_STOCK = 100;
const REQUESTS = 100;
const DLOCK_STRATEGIES: readonly RaceStrategy[] = ['mysql', 'spin', 'pubsub'];
/** Each run races fresh rows of the demo's own race_stock table, and deletes them at the end. */
const RUN_ID = Date.now().toString(36);
const RACE_PRODUCT = `demo-${RUN_ID}`;
const LOAD_PRODUCT = `load-${RUN_ID}`;
/** The simulated payment provider of this run: its semaphore key and its concurrency counters. */
const PAYMENT_PROVIDER = `demo-${RUN_ID}`;
const PAYMENT_REQUESTS = 30;
const LOAD = process.argv.includes('--load');
const SERVE = process.argv.includes('--serve');
/** Per server: 8 connections, 250 requests, at most 30 s per strategy. */
let serving = false;
const LOAD_SHAPE = { connections: 8, requestsPerServer: 250, maxSeconds: 30 };

const config = loadAppConfig({ ...process.env, PORT: '0' });
const servers: AppProcess[] = [];
let redis: Redis | undefined;
let dataSource: DataSource | undefined;

process.once('SIGINT', () => {
  if (serving) return; // serve() waits for it, then the demo cleans up and exits normally
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
    PAYMENT_PROVIDER,
    PAYMENT_WAIT_MS: '30000',
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

  const wrong = results
    .filter((result) => result.mustBeExact && !isExact(result))
    .map((result) => result.strategy);
  wrong.push(...(await payments(redis)));
  if (LOAD) wrong.push(...(await load()));
  if (wrong.length > 0) {
    console.error(
      `\nFAILED: ${wrong.join(', ')} did not end exact (or, for payments, not within the permits).`,
    );
    return 1;
  }
  console.log('\nAll dlock strategies ended exact, and the semaphore kept the provider within its permits.');
  if (SERVE) await serve();
  return 0;
}

/** Concurrent authorisations, without and with the semaphore; returns 'payments' if the semaphore let more than its permits through. */
async function payments(redis: Redis): Promise<string[]> {
  console.log(
    `\npayments: ${PAYMENT_REQUESTS} concurrent authorisations over both servers; the simulated provider takes ` +
      `${config.paymentProviderMs}-${2 * config.paymentProviderMs} ms and counts the calls in flight in Redis\n`,
  );
  const results: PaymentRoundResult[] = [];
  for (const guard of ['unguarded', 'semaphore'] as const) {
    results.push(
      await runPaymentRound({
        guard,
        serverUrls: servers.map((server) => server.url),
        redis,
        provider: PAYMENT_PROVIDER,
        requests: PAYMENT_REQUESTS,
      }),
    );
  }
  console.log(`${formatPaymentTable(results)}\n`);
  console.log(
    `unguarded: every request calls the provider at once.` +
      `\nsemaphore: @DistributedSemaphore({ key: 'psp:{0}', permits: ${PAYMENT_PERMITS} }) on pub/sub; the others wait in one queue in Redis.` +
      '\n("max at once" is the provider\'s own count across both servers, not what either server believes.)',
  );
  const semaphore = results.find((result) => result.guard === 'semaphore');
  return semaphore && isWithinLimit(semaphore) ? [] : ['payments (semaphore)'];
}

/** Drive both servers with autocannon, one strategy after the other; returns the dlock strategies that lost updates. */
async function load(): Promise<string[]> {
  const { connections, requestsPerServer, maxSeconds } = LOAD_SHAPE;
  console.log(
    `\nload: autocannon, ${servers.length} servers x ${connections} connections x ${requestsPerServer} ` +
      `"decrease by 1" requests per strategy (at most ${maxSeconds} s each), loopback only\n`,
  );
  const results: LoadResult[] = [];
  for (const strategy of RACE_STRATEGIES) {
    const result = await runLoadRound({
      strategy,
      serverUrls: servers.map((server) => server.url),
      productId: LOAD_PRODUCT,
      ...LOAD_SHAPE,
    });
    results.push(result);
    console.log(`  ${strategy.padEnd(7)} ${result.responses} answers, ${result.requestsPerSecond} req/s`);
  }
  const mustBeExact = (strategy: string) => DLOCK_STRATEGIES.includes(strategy as RaceStrategy);
  console.log(`\n${formatLoadTable(results, mustBeExact)}`);
  console.log(
    '\n(one machine runs both servers, MySQL, Redis and the load generator: compare strategies, not absolute numbers)',
  );
  return results
    .filter((result) => mustBeExact(result.strategy) && result.lostUpdates !== 0)
    .map((result) => `${result.strategy} (load)`);
}

/** Keep both servers up for the race page until Ctrl-C. */
async function serve(): Promise<void> {
  const [first, second] = servers as [AppProcess, AppProcess];
  serving = true;
  console.log(
    `\nRace page: ${first.url}/?peer=${encodeURIComponent(second.url)}\n` +
      'Both servers keep running; press Ctrl-C to stop them.',
  );
  await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
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
  const productId = RACE_PRODUCT;
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
  // Only the rows this run created; the table is the app's own (created by its migrations).
  await dataSource
    ?.getRepository(RaceStock)
    .delete({ productId: In([RACE_PRODUCT, LOAD_PRODUCT]) })
    .catch(() => {});
  await dataSource?.destroy().catch(() => {});
  dataSource = undefined;
  if (redis) await resetProviderConcurrency(redis, PAYMENT_PROVIDER).catch(() => {});
  await redis?.quit().catch(() => {});
  redis = undefined;
}
