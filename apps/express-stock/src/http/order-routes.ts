import { Router } from 'express';
import type { AppContext } from '../server/app-context.js';
import { readBody, readId, readOptionalQuantity } from './request-input.js';

/**
 * `POST /orders` with `{ userId, productId, quantity }`: 201 with the order, 409 `LOCK_NOT_ACQUIRED`
 * while the same user's previous order is still being placed.
 *
 * @example
 * app.use(createOrderRoutes(context));
 */
export function createOrderRoutes(context: Pick<AppContext, 'orderService'>): Router {
  const router = Router();
  router.post('/orders', async (request, response) => {
    const body = readBody(request.body, ['userId', 'productId', 'quantity']);
    const userId = readId(body.userId, 'userId');
    const productId = readId(body.productId, 'productId');
    // Absent means 1; `null` is not absent, it is a 400.
    const quantity = readOptionalQuantity(body.quantity);
    const { order, change } = await context.orderService.place(userId, productId, quantity);
    response.status(201).json({
      order: { id: order.id, userId: order.userId, productId: order.productId, quantity: order.quantity },
      stock: { productId: change.productId, quantity: change.quantity },
    });
  });
  return router;
}
