import { Router } from 'express';
import type { AppContext } from '../server/app-context.js';
import { ApiError } from './api-error.js';
import {
  readBody,
  readId,
  readOptionalQuantity,
  readQuantity,
  rejectStrategySwitch,
} from './request-input.js';

/**
 * `GET /stocks/:productId`, `PUT /stocks/:productId` (seed) and `POST /stocks/:productId/decrease`.
 * Both writes take the `stock:<productId>` lock (see `StockService`).
 *
 * @example
 * app.use(createStockRoutes(context));
 */
export function createStockRoutes(context: Pick<AppContext, 'stockService'>): Router {
  const router = Router();

  router.get('/stocks/:productId', async (request, response) => {
    const productId = readId(request.params.productId, 'productId');
    const stock = await context.stockService.find(productId);
    if (!stock) throw new ApiError(404, 'PRODUCT_NOT_FOUND', `Product "${productId}" has no stock record.`);
    response.json({ productId: stock.productId, quantity: stock.quantity });
  });

  router.put('/stocks/:productId', async (request, response) => {
    const productId = readId(request.params.productId, 'productId');
    const quantity = readQuantity(readBody(request.body, ['quantity']).quantity, 'quantity', true);
    response.json(await context.stockService.set(productId, quantity));
  });

  router.post('/stocks/:productId/decrease', async (request, response) => {
    const productId = readId(request.params.productId, 'productId');
    // An empty body means "one item", so `curl -X POST .../decrease` just works.
    const body = readBody(request.body, ['quantity'], { optional: true });
    const quantity = readOptionalQuantity(body.quantity);
    rejectStrategySwitch(request.query, request.get('x-lock-strategy'));
    const change = await context.stockService.decrease(productId, quantity);
    response.json(change);
  });

  return router;
}
