import { Router } from 'express';
import type { AppContext } from '../server/app-context.js';

type ProbeStatus = 'up' | 'down';

/**
 * `GET /healthz`: 200 when Redis, the app's database pool and the lock pool all answer within 1 s,
 * otherwise 503 with `code: STORE_UNAVAILABLE` and which one is down.
 *
 * @example
 * app.use(createHealthRoutes(context));
 */
export function createHealthRoutes(
  context: Pick<AppContext, 'redis' | 'dataSource' | 'lockDataSource'>,
): Router {
  const router = Router();
  router.get('/healthz', async (_request, response) => {
    const [redis, mysql, mysqlLocks] = await Promise.all([
      probe(() => context.redis.ping()),
      probe(() => context.dataSource.query('SELECT 1')),
      probe(() => context.lockDataSource.query('SELECT 1')),
    ]);
    const checks = { redis, mysql, mysqlLocks };
    if (Object.values(checks).every((status) => status === 'up')) {
      response.json({ status: 'ok', checks });
      return;
    }
    response.setHeader('Retry-After', '5');
    response.status(503).json({
      status: 'unavailable',
      checks,
      error: { code: 'STORE_UNAVAILABLE', message: 'A store the app needs is not answering.' },
    });
  });
  return router;
}

async function probe(check: () => Promise<unknown>, timeoutMs = 1_000): Promise<ProbeStatus> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<ProbeStatus>((resolve) => {
    timer = setTimeout(() => resolve('down'), timeoutMs);
  });
  try {
    return await Promise.race([
      check().then(
        (): ProbeStatus => 'up',
        (): ProbeStatus => 'down',
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
