import type { Redis } from 'ioredis';
import { readProviderConcurrency, resetProviderConcurrency } from '../payments/payment-provider.js';
import { PAYMENT_PERMITS } from '../payments/payment-service.js';
import { commandDelta, readCommandCounts, sentAndExecuted } from './redis-command-stats.js';
import { formatTextTable } from './text-table.js';

/** `semaphore`: the app's `POST /payments`; `unguarded`: the demo's same call without it. */
export type PaymentGuard = 'unguarded' | 'semaphore';

/** One round of concurrent authorisations against both servers. */
export interface PaymentRoundResult {
  readonly guard: PaymentGuard;
  readonly requests: number;
  readonly succeeded: number;
  /** Most authorisations the provider saw at once, from both servers together. */
  readonly maxConcurrent: number;
  readonly wallMs: number;
  /** Commands the semaphore's clients sent (scripts, subscriptions), per request. */
  readonly lockCommandsPerRequest: number;
}

const PATHS: Readonly<Record<PaymentGuard, string>> = {
  unguarded: '/race/payments/unguarded',
  semaphore: '/payments',
};

/**
 * Fire `requests` authorisations at once, alternating the servers, and read the provider's
 * high-water mark (a counter in Redis every server's provider call goes through).
 *
 * @example
 * const result = await runPaymentRound({ guard: 'semaphore', serverUrls, redis, provider: 'acme', requests: 30 });
 */
export async function runPaymentRound(round: {
  readonly guard: PaymentGuard;
  readonly serverUrls: readonly string[];
  readonly redis: Redis;
  readonly provider: string;
  readonly requests: number;
}): Promise<PaymentRoundResult> {
  const { guard, serverUrls, redis, provider, requests } = round;
  await resetProviderConcurrency(redis, provider);
  const before = await readCommandCounts(redis);
  const startedAt = performance.now();
  const statuses = await Promise.all(
    Array.from({ length: requests }, async (_, index) => {
      try {
        const response = await fetch(`${serverUrls[index % serverUrls.length]}${PATHS[guard]}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ orderId: `${guard}-${index}`, amountCents: 1_999 }),
        });
        await response.arrayBuffer();
        return response.status;
      } catch {
        return 0;
      }
    }),
  );
  const wallMs = Math.round(performance.now() - startedAt);
  // The simulated provider counts with EVAL (and DECR); the lock clients send EVALSHA, so leaving
  // EVAL out keeps the provider's own bookkeeping out of the semaphore's cost.
  const delta = commandDelta(before, await readCommandCounts(redis)).filter(([name]) => name !== 'eval');
  const { sent } = sentAndExecuted(delta);
  const { max } = await readProviderConcurrency(redis, provider);
  return {
    guard,
    requests,
    succeeded: statuses.filter((status) => status === 200).length,
    maxConcurrent: max,
    wallMs,
    lockCommandsPerRequest: sent / requests,
  };
}

/** A semaphore round is right when every request was authorised and never more than the permits ran at once. */
export function isWithinLimit(result: PaymentRoundResult): boolean {
  return result.succeeded === result.requests && result.maxConcurrent <= PAYMENT_PERMITS;
}

/**
 * The payment rounds as a plain-text table.
 *
 * @example
 * console.log(formatPaymentTable(results));
 */
export function formatPaymentTable(results: readonly PaymentRoundResult[]): string {
  const header = [
    'payments',
    'requests',
    'authorised',
    `max at once (limit ${PAYMENT_PERMITS})`,
    'wall time',
    'lock cmds sent/request',
    'verdict',
  ];
  const rows = results.map((result) => [
    result.guard,
    String(result.requests),
    String(result.succeeded),
    String(result.maxConcurrent),
    `${result.wallMs} ms`,
    result.lockCommandsPerRequest > 0 ? result.lockCommandsPerRequest.toFixed(1) : '-',
    isWithinLimit(result)
      ? 'within the limit'
      : result.guard === 'semaphore'
        ? 'WRONG'
        : 'over the limit (expected)',
  ]);
  return formatTextTable(header, rows);
}
