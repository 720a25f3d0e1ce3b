import { type RequestHandler, Router } from 'express';
import type { AppContext } from '../server/app-context.js';
import { ApiError } from './api-error.js';
import { readBody, readId, readOptionalQuantity, readQuantity, readRaceStrategy } from './request-input.js';

/**
 * DEMO ONLY: `/race/:strategy/stocks/:productId` (GET, PUT to seed, POST `/decrease`) runs the
 * stock decrease on the demo's own `race_stock` rows under the chosen strategy. A real app has no
 * such switch. CORS is open on these routes so the race page served by one server can drive the
 * other one too (both listen on loopback by default).
 *
 * @example
 * app.use(createRaceRoutes(context));
 */
export function createRaceRoutes(context: Pick<AppContext, 'raceStocks'>): Router {
  const router = Router();
  router.use('/race', allowCrossOrigin);

  router.get('/race/:strategy/stocks/:productId', async (request, response) => {
    const strategy = readRaceStrategy(request.params.strategy);
    const productId = readId(request.params.productId, 'productId');
    const stock = await context.raceStocks.find(strategy, productId);
    if (!stock) {
      throw new ApiError(
        404,
        'PRODUCT_NOT_FOUND',
        `Race product "${productId}" (${strategy}) has no stock record.`,
      );
    }
    response.json({ strategy, productId, quantity: stock.quantity });
  });

  router.put('/race/:strategy/stocks/:productId', async (request, response) => {
    const strategy = readRaceStrategy(request.params.strategy);
    const productId = readId(request.params.productId, 'productId');
    const quantity = readQuantity(readBody(request.body, ['quantity']).quantity, 'quantity', true);
    await context.raceStocks.set(strategy, productId, quantity);
    response.json({ strategy, productId, quantity });
  });

  router.post('/race/:strategy/stocks/:productId/decrease', async (request, response) => {
    const strategy = readRaceStrategy(request.params.strategy);
    const productId = readId(request.params.productId, 'productId');
    const body = readBody(request.body, ['quantity'], { optional: true });
    const quantity = readOptionalQuantity(body.quantity);
    response.json(await context.raceStocks.decrease(strategy, productId, quantity));
  });

  return router;
}

const allowCrossOrigin: RequestHandler = (request, response, next) => {
  response.setHeader('Access-Control-Allow-Origin', '*');
  if (request.method !== 'OPTIONS') {
    next();
    return;
  }
  response.setHeader('Access-Control-Allow-Methods', 'GET, PUT, POST');
  response.setHeader('Access-Control-Allow-Headers', 'content-type');
  response.setHeader('Access-Control-Max-Age', '600');
  response.status(204).end();
};
