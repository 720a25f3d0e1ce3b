import type { Redis } from 'ioredis';

/** One payment to authorise. */
export interface Payment {
  readonly orderId: string;
  readonly amountCents: number;
}

/** What the provider answers. */
export interface Authorisation {
  readonly orderId: string;
  readonly amountCents: number;
  readonly provider: string;
  readonly authorisationId: string;
  /** How long the provider took. */
  readonly providerMs: number;
  /** Authorisations running at the provider, this one included, when it arrived. */
  readonly concurrentAtArrival: number;
}

/** The provider's concurrency counters: in flight now, and the most ever seen at once. */
export interface ProviderConcurrency {
  readonly inFlight: number;
  readonly max: number;
}

// Arrival: count this call in and raise the high-water mark, in one atomic step, so two servers
// arriving together can never both read the old maximum.
const ARRIVE = `
local now = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
local max = tonumber(redis.call('GET', KEYS[2]) or '0')
if now > max then redis.call('SET', KEYS[2], now, 'PX', ARGV[1]) end
return now`;

/** Counters live an hour after the last call: a crashed demo leaves nothing behind for long. */
const COUNTER_TTL_MS = 3_600_000;

/** Redis keys of one provider's counters. Not lock keys: the simulation's own bookkeeping. */
function providerCounterKeys(provider: string): { inFlight: string; max: string } {
  return { inFlight: `psp-sim:${provider}:in-flight`, max: `psp-sim:${provider}:max` };
}

/**
 * Read a provider's counters (the demo and the tests; the servers never need them).
 *
 * @example
 * const { max } = await readProviderConcurrency(redis, 'acme');
 */
export async function readProviderConcurrency(redis: Redis, provider: string): Promise<ProviderConcurrency> {
  const keys = providerCounterKeys(provider);
  const [inFlight, max] = await redis.mget(keys.inFlight, keys.max);
  return { inFlight: Number(inFlight ?? 0), max: Number(max ?? 0) };
}

/**
 * Forget a provider's counters, e.g. before a new round.
 *
 * @example
 * await resetProviderConcurrency(redis, 'acme');
 */
export async function resetProviderConcurrency(redis: Redis, provider: string): Promise<void> {
  const keys = providerCounterKeys(provider);
  await redis.del(keys.inFlight, keys.max);
}

/**
 * A stand-in for a payment service provider (PSP) whose contract allows only a few authorisations
 * at once: it takes `latencyMs` to `2 x latencyMs` per call. It does not enforce the limit, it
 * MEASURES it: every call is counted in and out in Redis, shared by every server, so the demo and
 * the tests read the true number of calls that overlapped across processes (`max`), not what one
 * server believes. The count happens inside the caller's semaphore, so it can only under-report
 * the overlap of the permits, never invent one.
 *
 * @example
 * const psp = new SimulatedPaymentProvider(redis, { name: 'acme', latencyMs: 100 });
 * await psp.authorise({ orderId: 'o-1', amountCents: 1999 });
 */
export class SimulatedPaymentProvider {
  readonly name: string;
  readonly #redis: Redis;
  readonly #latencyMs: number;

  constructor(redis: Redis, options: { readonly name: string; readonly latencyMs: number }) {
    this.#redis = redis;
    this.name = options.name;
    this.#latencyMs = options.latencyMs;
  }

  async authorise(payment: Payment): Promise<Authorisation> {
    const keys = providerCounterKeys(this.name);
    const startedAt = performance.now();
    const concurrentAtArrival = Number(
      await this.#redis.eval(ARRIVE, 2, keys.inFlight, keys.max, COUNTER_TTL_MS),
    );
    try {
      await new Promise((resolve) => setTimeout(resolve, this.#latencyMs * (1 + Math.random())));
    } finally {
      await this.#redis.decr(keys.inFlight);
    }
    return {
      ...payment,
      provider: this.name,
      authorisationId: `auth-${payment.orderId}-${Date.now().toString(36)}`,
      providerMs: Math.round(performance.now() - startedAt),
      concurrentAtArrival,
    };
  }
}
