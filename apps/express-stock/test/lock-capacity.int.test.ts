import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/http/create-app.js';
import type { AppContext } from '../src/server/app-context.js';
import { createTestContext, dropTables } from './support/test-stores.js';

// LOCK_POOL_SIZE=2 gives the MySQL lock backend one connection (maxConnections = pool size - 1).
let context: AppContext;
let app: ReturnType<typeof createApp>;

beforeAll(async () => {
  context = await createTestContext({ lockPoolSize: 2 });
  app = createApp(context);
});

afterAll(async () => {
  if (context) {
    await dropTables(context.dataSource, context.config.tablePrefix);
    await context.close();
  }
});

describe('the lock backend runs out of its own connections', () => {
  it('answers 503 LOCK_CAPACITY with Retry-After, not "store unavailable", while MySQL is healthy', async () => {
    await request(app).put('/race/mysql/stocks/cap-b').send({ quantity: 5 }).expect(200);
    // This server's one MySQL lock connection is busy holding another, unrelated key.
    const held = await context.lockManager.acquire('race:mysql:cap-a');
    try {
      const response = await request(app).post('/race/mysql/stocks/cap-b/decrease').send({}).expect(503);
      expect(response.body.error.code).toBe('LOCK_CAPACITY');
      expect(response.body.error.message).toMatch(/maxConnections/);
      expect(response.headers['retry-after']).toBe('1');
      const health = await request(app).get('/healthz').expect(200);
      expect(health.body.checks.mysqlLocks).toBe('up');
    } finally {
      await held.release();
    }
    // Capacity is back: the same request goes through.
    await request(app).post('/race/mysql/stocks/cap-b/decrease').send({}).expect(200);
  });
});
