import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import type { RaceStrategy } from '../race/race-strategies.js';
import { formatTextTable } from './text-table.js';

/** One strategy under load: what a user would look at first. */
export interface LoadResult {
  readonly strategy: RaceStrategy;
  readonly responses: number;
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly ok: number;
  readonly conflicts: number;
  readonly unavailable: number;
  /** Other statuses, connection errors and timeouts. */
  readonly otherFailures: number;
  readonly initialStock: number;
  readonly finalStock: number;
  /** 200s whose decrease is missing from the final stock: 200s - (initial - final). */
  readonly lostUpdates: number;
  /** The watchdog stopped the round before every request was answered. */
  readonly stoppedEarly: boolean;
}

export interface LoadRoundOptions {
  readonly strategy: RaceStrategy;
  /** Base URLs of the app servers, e.g. `http://127.0.0.1:34567`; each gets its own load generator. */
  readonly serverUrls: readonly string[];
  readonly productId: string;
  /** Concurrent connections per server. */
  readonly connections: number;
  /** Requests per server. With a fixed amount every request is answered before the stock is read. */
  readonly requestsPerServer: number;
  /** Upper bound of the round; stragglers are cut off after it. */
  readonly maxSeconds: number;
}

const INITIAL_STOCK = 1_000_000;

/**
 * Seed a fresh race row, then drive every server at once with autocannon (real HTTP, keep-alive
 * connections) sending `POST /race/<strategy>/stocks/<product>/decrease`, and check the final
 * stock against the 200s.
 *
 * @example
 * const result = await runLoadRound({ strategy: 'pubsub', serverUrls, productId: 'load-1', connections: 8, requestsPerServer: 300, maxSeconds: 30 });
 */
export async function runLoadRound(options: LoadRoundOptions): Promise<LoadResult> {
  const { strategy, serverUrls, productId } = options;
  const path = `/race/${strategy}/stocks/${productId}`;
  await sendJson(`${serverUrls[0]}${path}`, 'PUT', { quantity: INITIAL_STOCK });

  const latencies: number[] = [];
  const statuses = new Map<number, number>();
  let errors = 0;
  const startedAt = performance.now();
  const runs = serverUrls.map((url) => {
    let instance!: autocannon.Instance;
    const done = new Promise<autocannon.Result>((resolve, reject) => {
      instance = autocannon(
        {
          url: `${url}${path}/decrease`,
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ quantity: 1 }),
          connections: options.connections,
          amount: options.requestsPerServer,
          timeout: options.maxSeconds,
        },
        (error, result) => (error ? reject(error) : resolve(result)),
      );
    });
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      latencies.push(responseTime);
      statuses.set(statusCode, (statuses.get(statusCode) ?? 0) + 1);
    });
    instance.on('reqError', () => {
      errors++;
    });
    return { instance, done };
  });
  let stoppedEarly = false;
  const watchdog = setTimeout(() => {
    stoppedEarly = true;
    for (const run of runs) run.instance.stop();
  }, options.maxSeconds * 1_000);
  await Promise.all(runs.map((run) => run.done));
  clearTimeout(watchdog);
  const seconds = (performance.now() - startedAt) / 1_000;

  // A request cut off by the watchdog may still commit on the server: wait until the stock settles.
  const finalStock = await settledStock(`${serverUrls[0]}${path}`, stoppedEarly ? 3_000 : 0);
  const ok = statuses.get(200) ?? 0;
  const conflicts = statuses.get(409) ?? 0;
  const unavailable = statuses.get(503) ?? 0;
  const responses = latencies.length;
  latencies.sort((a, b) => a - b);
  return {
    strategy,
    responses,
    requestsPerSecond: Math.round(responses / seconds),
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    ok,
    conflicts,
    unavailable,
    otherFailures: responses - ok - conflicts - unavailable + errors,
    initialStock: INITIAL_STOCK,
    finalStock,
    lostUpdates: ok - (INITIAL_STOCK - finalStock),
    stoppedEarly,
  };
}

/**
 * Render load results as a plain-text table.
 *
 * @example
 * console.log(formatLoadTable(results));
 */
export function formatLoadTable(
  results: readonly LoadResult[],
  mustBeExact: (strategy: string) => boolean,
): string {
  const header = [
    'strategy',
    'answered',
    'req/s',
    'p50',
    'p99',
    '200',
    '409',
    '503',
    'other',
    'final stock check',
  ];
  const rows = results.map((result) => [
    result.strategy,
    String(result.responses),
    String(result.requestsPerSecond),
    `${result.p50Ms} ms`,
    `${result.p99Ms} ms`,
    String(result.ok),
    String(result.conflicts),
    String(result.unavailable),
    String(result.otherFailures),
    stockVerdict(result, mustBeExact(result.strategy)),
  ]);
  return formatTextTable(header, rows);
}

function stockVerdict(result: LoadResult, mustBeExact: boolean): string {
  const sold = result.initialStock - result.finalStock;
  const early = result.stoppedEarly ? ' (cut off at the time limit)' : '';
  if (result.lostUpdates === 0) return `exact: ${result.ok} sold, stock down by ${sold}${early}`;
  const verdict = mustBeExact ? 'WRONG' : 'wrong (expected)';
  return `${verdict}: ${result.ok} sold, stock down by ${sold}, ${result.lostUpdates} lost${early}`;
}

function percentile(sorted: readonly number[], fraction: number): number {
  if (sorted.length === 0) return 0;
  const index = Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1);
  return Math.round(sorted[Math.max(0, index)]!);
}

async function settledStock(url: string, maxWaitMs: number): Promise<number> {
  let last = await readQuantity(url);
  const deadline = Date.now() + maxWaitMs;
  while (Date.now() < deadline) {
    await sleep(300);
    const current = await readQuantity(url);
    if (current === last) break;
    last = current;
  }
  return last;
}

async function readQuantity(url: string): Promise<number> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`GET ${url} answered ${response.status}: ${await response.text()}`);
  return ((await response.json()) as { quantity: number }).quantity;
}

async function sendJson(url: string, method: string, body: unknown): Promise<void> {
  const response = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${method} ${url} answered ${response.status}: ${await response.text()}`);
}
