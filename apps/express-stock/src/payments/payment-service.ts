import { DistributedSemaphore } from '@dlock/core';
import { paymentWaitMs } from '../config/app-config.js';
import type { Authorisation, Payment, SimulatedPaymentProvider } from './payment-provider.js';

/** The provider's contract: at most this many authorisations in flight, from all servers together. */
export const PAYMENT_PERMITS = 3;

/**
 * Authorises payments at the provider, at most {@link PAYMENT_PERMITS} at once across every server.
 *
 * Why a semaphore and not a lock: a lock would allow one authorisation at a time and waste the two
 * other slots the provider pays for; a per-process limit (p-limit) would allow 3 per server, 6 with
 * two servers, 30 after an autoscaler added ten.
 *
 * @example
 * const payments = new PaymentService(provider);
 * await payments.authorise('acme', { orderId: 'o-1', amountCents: 1999 });
 */
export class PaymentService {
  readonly #provider: SimulatedPaymentProvider;

  constructor(provider: SimulatedPaymentProvider) {
    this.#provider = provider;
  }

  /** The provider's name: the `{0}` of the semaphore key. */
  get providerName(): string {
    return this.#provider.name;
  }

  /**
   * `psp:<provider>` is a semaphore key, routed to pub/sub (`lock-backends.ts`): callers over the
   * limit wait in one fair queue in Redis and are woken by the release message, instead of polling
   * a provider-wide key from every server. `retry` bounds that wait (`PAYMENT_WAIT_MS`), after which
   * the caller gets `LockTimeoutError` (HTTP 503 `LOCK_TIMEOUT`, `Retry-After`). The permit is
   * held for the whole provider call and released when it settles, failed or not.
   */
  @DistributedSemaphore({ key: 'psp:{0}', permits: PAYMENT_PERMITS, retry: { waitMs: paymentWaitMs() } })
  async authorise(provider: string, payment: Payment): Promise<Authorisation> {
    if (provider !== this.#provider.name) {
      // The key names the provider; a call naming another one would be counted against the wrong limit.
      throw new Error(`This service authorises at "${this.#provider.name}", not "${provider}".`);
    }
    return this.#provider.authorise(payment);
  }

  /** DEMO ONLY: the same call without the semaphore, to show what the limit prevents. */
  async authoriseUnguarded(payment: Payment): Promise<Authorisation> {
    return this.#provider.authorise(payment);
  }
}
