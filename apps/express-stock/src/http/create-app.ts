import express, { type Express } from 'express';
import type { AppContext } from '../server/app-context.js';
import { ApiError } from './api-error.js';
import { createErrorHandler } from './error-response.js';
import { createHealthRoutes } from './health-routes.js';
import { createLockPageRoutes } from './lock-page.js';
import { createOrderRoutes } from './order-routes.js';
import { createPaymentRoutes } from './payment-routes.js';
import { createRacePageRoutes } from './race-page.js';
import { createRaceRoutes } from './race-routes.js';
import { requireJsonBody } from './request-input.js';
import { createStockRoutes } from './stock-routes.js';

/**
 * The Express app on a connected {@link AppContext}; no listening, so tests drive it with supertest.
 * Express 5 forwards rejected async handlers to the error handler, so routes just throw.
 *
 * @example
 * const app = createApp(await createAppContext(config, logger));
 * app.listen(3000);
 */
export function createApp(context: AppContext): Express {
  const app = express();
  app.disable('x-powered-by');
  // A body that is not JSON is refused (415) before the parser would skip it.
  app.use(requireJsonBody, express.json({ limit: '16kb' }));
  app.use((request, response, next) => {
    const startedAt = performance.now();
    response.on('finish', () => {
      context.logger.debug(
        {
          method: request.method,
          url: request.originalUrl,
          status: response.statusCode,
          ms: Math.round(performance.now() - startedAt),
        },
        'request',
      );
    });
    next();
  });
  app.use(createHealthRoutes(context));
  app.use(createStockRoutes(context));
  app.use(createOrderRoutes(context));
  app.use(createPaymentRoutes(context));
  app.use(createRaceRoutes(context));
  app.use(createRacePageRoutes());
  app.use('/locks', createLockPageRoutes(context));
  app.use((request) => {
    throw new ApiError(404, 'NOT_FOUND', `No route for ${request.method} ${request.path}.`);
  });
  app.use(createErrorHandler(context.logger, () => context.lifecycle.shuttingDown));
  return app;
}
