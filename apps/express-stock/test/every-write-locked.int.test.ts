import { setTimeout as sleep } from 'node:timers/promises';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/http/create-app.js';
import type { AppContext } from '../src/server/app-context.js';
import { createOtherServerManager, createTestContext, dropTables } from './support/test-stores.js';

// Every write to a locked resource takes the same lock, absolute writes (PUT) included: a decrease
// that read before the PUT would otherwise write its stale result over it.
let context: AppContext;
let app: ReturnType<typeof createApp>;
let other: Awaited<ReturnType<typeof createOtherServerManager>>;

beforeAll(async () => {
  // Each decrease works 300 ms between its read and its write: a wide window for a PUT to land in.
  context = await createTestContext({ stockWorkMs: 300 });
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

function waitForAcquired(key: string): Promise<void> {
  return new Promise((resolve) => {
    const onAcquired = (event: { key: string }) => {
      if (event.key !== key) return;
      context.lockManager.off('acquired', onAcquired);
      resolve();
    };
    context.lockManager.on('acquired', onAcquired);
  });
}

describe('PUT /stocks/:productId takes the stock lock', () => {
  it('waits while another server holds stock:<product>', async () => {
    const productId = 'put-waits';
    await request(app).put(`/stocks/${productId}`).send({ quantity: 5 }).expect(200);
    const held = await other.manager.acquire(`stock:${productId}`, { backend: 'pubsub' });
    let settled = false;
    const put = request(app)
      .put(`/stocks/${productId}`)
      .send({ quantity: 50 })
      .then((response) => {
        settled = true;
        return response;
      });
    await sleep(500);
    expect(settled).toBe(false);
    await held.release();
    expect((await put).status).toBe(200);
    await request(app).get(`/stocks/${productId}`).expect(200, { productId, quantity: 50 });
  });

  it('a PUT sent while a decrease is between its read and its write is not overwritten by it', async () => {
    const productId = 'put-vs-decrease';
    await request(app).put(`/stocks/${productId}`).send({ quantity: 10 }).expect(200);
    const entered = waitForAcquired(`stock:${productId}`);
    const decrease = request(app)
      .post(`/stocks/${productId}/decrease`)
      .send({ quantity: 1 })
      .then((response) => response);
    await entered; // the decrease holds the lock and has read 10 (or is about to)
    const put = await request(app).put(`/stocks/${productId}`).send({ quantity: 100 });
    expect(put.status).toBe(200);
    expect((await decrease).body).toEqual({ productId, previousQuantity: 10, quantity: 9 });
    // The PUT waited for the decrease's COMMIT and came last: its 100 stands.
    await request(app).get(`/stocks/${productId}`).expect(200, { productId, quantity: 100 });
  });

  it('a decrease queued behind a PUT reads the PUT', async () => {
    const productId = 'decrease-after-put';
    await request(app).put(`/stocks/${productId}`).send({ quantity: 10 }).expect(200);
    const held = await other.manager.acquire(`stock:${productId}`, { backend: 'pubsub' });
    const entered = waitForAcquired(`stock:${productId}`);
    const put = request(app)
      .put(`/stocks/${productId}`)
      .send({ quantity: 100 })
      .then((response) => response);
    await held.release();
    await entered;
    const decrease = await request(app).post(`/stocks/${productId}/decrease`).send({ quantity: 1 });
    expect((await put).status).toBe(200);
    expect(decrease.body).toEqual({ productId, previousQuantity: 100, quantity: 99 });
    await request(app).get(`/stocks/${productId}`).expect(200, { productId, quantity: 99 });
  });
});
