import { setTimeout as sleep } from 'node:timers/promises';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/http/create-app.js';
import { Order } from '../src/orders/order-entity.js';
import { RACE_STRATEGIES } from '../src/race/race-strategies.js';
import type { AppContext } from '../src/server/app-context.js';
import { createOtherServerManager, createTestContext, dropTables } from './support/test-stores.js';

let context: AppContext;
let app: ReturnType<typeof createApp>;
let other: Awaited<ReturnType<typeof createOtherServerManager>>;

beforeAll(async () => {
  context = await createTestContext();
  app = createApp(context);
  other = await createOtherServerManager(context.config);
});

afterAll(async () => {
  await other?.close();
  if (context) {
    await dropTables(context.dataSource, context.config.tablePrefix);
    await context.close();
  }
});

const productIds = new Set<string>();
function newProductId(): string {
  const id = `p-${productIds.size}-${Math.random().toString(36).slice(2, 8)}`;
  productIds.add(id);
  return id;
}

async function seed(quantity: number): Promise<string> {
  const productId = newProductId();
  await request(app).put(`/stocks/${productId}`).send({ quantity }).expect(200, { productId, quantity });
  return productId;
}

describe('GET /healthz', () => {
  it('reports every store up', async () => {
    const response = await request(app).get('/healthz').expect(200);
    expect(response.body).toEqual({ status: 'ok', checks: { redis: 'up', mysql: 'up', mysqlLocks: 'up' } });
  });
});

describe('stocks', () => {
  it('GET returns the seeded quantity; unknown products are 404 PRODUCT_NOT_FOUND', async () => {
    const productId = await seed(7);
    await request(app).get(`/stocks/${productId}`).expect(200, { productId, quantity: 7 });
    const missing = await request(app).get('/stocks/nope-404').expect(404);
    expect(missing.body.error.code).toBe('PRODUCT_NOT_FOUND');
  });

  it('decrease takes the stock lock and defaults the quantity to 1 without a body', async () => {
    const productId = await seed(5);
    const response = await request(app).post(`/stocks/${productId}/decrease`).expect(200);
    expect(response.body).toEqual({ productId, previousQuantity: 5, quantity: 4 });
    await request(app).get(`/stocks/${productId}`).expect(200, { productId, quantity: 4 });
  });

  it.each([
    ['?strategy=', (path: string) => request(app).post(`${path}?strategy=mysql`)],
    ['X-Lock-Strategy', (path: string) => request(app).post(path).set('X-Lock-Strategy', 'spin')],
  ])('the strategy switch (%s) is demo-only: 400 naming "strategy" on the app route', async (_how, send) => {
    const productId = await seed(5);
    const response = await send(`/stocks/${productId}/decrease`).send({ quantity: 1 }).expect(400);
    expect(response.body.error).toMatchObject({ code: 'INVALID_INPUT', field: 'strategy' });
    expect(response.body.error.message).toMatch(/\/race\/:strategy/);
    await request(app).get(`/stocks/${productId}`).expect(200, { productId, quantity: 5 });
  });

  it('409 INSUFFICIENT_STOCK leaves the stock unchanged', async () => {
    const productId = await seed(1);
    const response = await request(app)
      .post(`/stocks/${productId}/decrease`)
      .send({ quantity: 2 })
      .expect(409);
    expect(response.body.error.code).toBe('INSUFFICIENT_STOCK');
    await request(app).get(`/stocks/${productId}`).expect(200, { productId, quantity: 1 });
  });

  it('404 PRODUCT_NOT_FOUND when decreasing an unknown product', async () => {
    const response = await request(app)
      .post('/stocks/unknown-product/decrease')
      .send({ quantity: 1 })
      .expect(404);
    expect(response.body.error.code).toBe('PRODUCT_NOT_FOUND');
  });

  it.each([
    ['a zero quantity', '/stocks/p-ok/decrease', { quantity: 0 }],
    ['a fractional quantity', '/stocks/p-ok/decrease', { quantity: 1.5 }],
    ['a string quantity', '/stocks/p-ok/decrease', { quantity: '1' }],
    ['a product id with a space', '/stocks/bad%20id/decrease', { quantity: 1 }],
    ['a product id over 64 characters', `/stocks/${'x'.repeat(65)}/decrease`, { quantity: 1 }],
  ])('400 INVALID_INPUT for %s', async (_case, path, body) => {
    const response = await request(app).post(path).send(body).expect(400);
    expect(response.body.error.code).toBe('INVALID_INPUT');
  });

  it('400 INVALID_INPUT for malformed JSON and for a negative seed quantity', async () => {
    const malformed = await request(app)
      .post('/stocks/p-ok/decrease')
      .set('content-type', 'application/json')
      .send('{"quantity":')
      .expect(400);
    expect(malformed.body.error.code).toBe('INVALID_INPUT');
    const negative = await request(app).put('/stocks/p-ok').send({ quantity: -1 }).expect(400);
    expect(negative.body.error.code).toBe('INVALID_INPUT');
  });

  it('503 LOCK_TIMEOUT with Retry-After when another server holds the stock lock past retry.waitMs', async () => {
    const productId = await seed(3);
    const held = await other.manager.acquire(`stock:${productId}`, { backend: 'pubsub' });
    try {
      const startedAt = Date.now();
      const response = await request(app)
        .post(`/stocks/${productId}/decrease`)
        .send({ quantity: 1 })
        .expect(503);
      expect(response.body.error.code).toBe('LOCK_TIMEOUT');
      expect(response.headers['retry-after']).toBe('1');
      // It waited (STOCK_LOCK_WAIT_MS=2000 in vitest.config.ts) instead of failing at once.
      expect(Date.now() - startedAt).toBeGreaterThanOrEqual(1_500);
    } finally {
      await held.release();
    }
    await request(app).get(`/stocks/${productId}`).expect(200, { productId, quantity: 3 });
  });

  it('a waiting request proceeds as soon as the other server releases the lock', async () => {
    const productId = await seed(3);
    const held = await other.manager.acquire(`stock:${productId}`, { backend: 'pubsub' });
    const pending = request(app).post(`/stocks/${productId}/decrease`).send({ quantity: 1 });
    const settled = pending.then((response) => response);
    await sleep(200);
    await held.release();
    const response = await settled;
    expect(response.status).toBe(200);
    expect(response.body.quantity).toBe(2);
  });
});

describe('the demo race endpoint (/race/:strategy/stocks/:productId)', () => {
  it.each(RACE_STRATEGIES)('seeds, reads and decreases its own row under strategy %s', async (strategy) => {
    const productId = newProductId();
    const path = `/race/${strategy}/stocks/${productId}`;
    await request(app).put(path).send({ quantity: 5 }).expect(200, { strategy, productId, quantity: 5 });
    const response = await request(app).post(`${path}/decrease`).send({ quantity: 2 }).expect(200);
    expect(response.body).toEqual({ productId, previousQuantity: 5, quantity: 3 });
    await request(app).get(path).expect(200, { strategy, productId, quantity: 3 });
    // The app's stock of the same name is another row, under another lock.
    await request(app).get(`/stocks/${productId}`).expect(404);
  });

  it('400 naming "strategy" for an unknown strategy', async () => {
    const response = await request(app).post('/race/redlock/stocks/p-1/decrease').send({}).expect(400);
    expect(response.body.error).toMatchObject({ code: 'INVALID_INPUT', field: 'strategy' });
  });

  it('answers CORS preflights, so the race page of one server can drive another', async () => {
    const response = await request(app)
      .options('/race/pubsub/stocks/p-1/decrease')
      .set('Origin', 'http://127.0.0.1:1234')
      .set('Access-Control-Request-Method', 'POST')
      .set('Access-Control-Request-Headers', 'content-type')
      .expect(204);
    expect(response.headers['access-control-allow-origin']).toBe('*');
    expect(response.headers['access-control-allow-methods']).toMatch(/POST/);
    expect(response.headers['access-control-allow-headers']).toMatch(/content-type/i);
  });
});

describe('POST /orders', () => {
  it('201 places the order and decreases the stock in one go', async () => {
    const productId = await seed(4);
    const response = await request(app)
      .post('/orders')
      .send({ userId: 'u-201', productId, quantity: 3 })
      .expect(201);
    expect(response.body).toMatchObject({
      order: { userId: 'u-201', productId, quantity: 3 },
      stock: { productId, quantity: 1 },
    });
    expect(await context.dataSource.getRepository(Order).countBy({ productId })).toBe(1);
  });

  it('409 INSUFFICIENT_STOCK writes no order row', async () => {
    const productId = await seed(1);
    const response = await request(app)
      .post('/orders')
      .send({ userId: 'u-409', productId, quantity: 2 })
      .expect(409);
    expect(response.body.error.code).toBe('INSUFFICIENT_STOCK');
    expect(await context.dataSource.getRepository(Order).countBy({ productId })).toBe(0);
  });

  it('400 INVALID_INPUT for a missing userId or a non-object body', async () => {
    const missing = await request(app).post('/orders').send({ productId: 'p-1', quantity: 1 }).expect(400);
    expect(missing.body.error.code).toBe('INVALID_INPUT');
    const array = await request(app).post('/orders').send([1, 2]).expect(400);
    expect(array.body.error.code).toBe('INVALID_INPUT');
  });

  it('a double submit by the same user gets 409 LOCK_NOT_ACQUIRED at once while the first is in flight', async () => {
    const productId = await seed(5);
    // Keep the first order in flight: it takes order:<user>, then waits for the stock lock held here.
    const stockLock = await other.manager.acquire(`stock:${productId}`, { backend: 'pubsub' });
    const lockedOrder = new Promise<void>((resolve) => {
      const onAcquired = (event: { key: string }) => {
        if (event.key === 'order:u-double') {
          context.lockManager.off('acquired', onAcquired);
          resolve();
        }
      };
      context.lockManager.on('acquired', onAcquired);
    });
    const first = request(app)
      .post('/orders')
      .send({ userId: 'u-double', productId, quantity: 1 })
      .then((response) => response);
    await lockedOrder;

    const startedAt = Date.now();
    const second = await request(app)
      .post('/orders')
      .send({ userId: 'u-double', productId, quantity: 1 })
      .expect(409);
    expect(second.body.error.code).toBe('LOCK_NOT_ACQUIRED');
    // "At once": it did not wait for the stock lock (held until we release it below).
    expect(Date.now() - startedAt).toBeLessThan(1_500);

    // Another user is not blocked by u-double's order lock (it only waits for the stock).
    const otherUser = request(app)
      .post('/orders')
      .send({ userId: 'u-other', productId, quantity: 1 })
      .then((response) => response);

    await stockLock.release();
    expect((await first).status).toBe(201);
    expect((await otherUser).status).toBe(201);
    expect(await context.dataSource.getRepository(Order).countBy({ productId, userId: 'u-double' })).toBe(1);
    await request(app).get(`/stocks/${productId}`).expect(200, { productId, quantity: 3 });
  });
});

describe('unknown routes', () => {
  it('404 NOT_FOUND as JSON', async () => {
    const response = await request(app).get('/nope').expect(404);
    expect(response.body.error.code).toBe('NOT_FOUND');
  });
});
