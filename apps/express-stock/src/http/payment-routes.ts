import { Router } from 'express';
import type { AppContext } from '../server/app-context.js';
import { readBody, readId, readQuantity } from './request-input.js';

/**
 * `POST /payments` with `{ orderId, amountCents }`: authorises the payment at the provider, at most
 * 3 at once across every server; the others wait their turn (503 `LOCK_TIMEOUT` after
 * `PAYMENT_WAIT_MS`). `POST /race/payments/unguarded` (DEMO ONLY) makes the same call without the
 * semaphore, so the demo can show what the limit prevents.
 *
 * @example
 * app.use(createPaymentRoutes(context));
 */
export function createPaymentRoutes(context: Pick<AppContext, 'paymentService'>): Router {
  const router = Router();
  const payments = context.paymentService;
  const readPayment = (body: unknown) => {
    const fields = readBody(body, ['orderId', 'amountCents']);
    return {
      orderId: readId(fields.orderId, 'orderId'),
      amountCents: readQuantity(fields.amountCents, 'amountCents'),
    };
  };

  router.post('/payments', async (request, response) => {
    response.json(await payments.authorise(payments.providerName, readPayment(request.body)));
  });

  router.post('/race/payments/unguarded', async (request, response) => {
    response.json(await payments.authoriseUnguarded(readPayment(request.body)));
  });

  return router;
}
