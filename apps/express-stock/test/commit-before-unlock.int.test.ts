import type { LockReleasedEvent } from '@dlock/core';
import request from 'supertest';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/http/create-app.js';
import type { AppContext } from '../src/server/app-context.js';
import { connectAppDataSource } from '../src/server/store-connections.js';
import { createTestContext, dropTables } from './support/test-stores.js';

let context: AppContext;
let app: ReturnType<typeof createApp>;
/** An independent pool, like another server's: it sees only committed data. */
let observer: DataSource;

beforeAll(async () => {
  context = await createTestContext({ stockWorkMs: 2 });
  app = createApp(context);
  observer = await connectAppDataSource({ ...context.config, synchronizeSchema: false, appPoolSize: 2 });
});

afterAll(async () => {
  await observer?.destroy();
  if (context) {
    await dropTables(context.dataSource, context.config.tablePrefix);
    await context.close();
  }
});

async function committedQuantity(productId: string): Promise<number> {
  const rows: { quantity: number }[] = await observer.query(
    `SELECT quantity FROM \`${context.config.tablePrefix}stock\` WHERE product_id = ?`,
    [productId],
  );
  return rows[0]!.quantity;
}

/** Interleaving of transaction commits (all of this app) and releases of `key`, in the order they happened. */
function recordCommitsAndReleases(key: string): { log: string[]; stop(): void } {
  const log: string[] = [];
  const subscriber = { afterTransactionCommit: () => void log.push('commit') };
  context.dataSource.subscribers.push(subscriber);
  const onReleased = (event: LockReleasedEvent) => {
    if (event.key === key) log.push('release');
  };
  context.lockManager.on('released', onReleased);
  return {
    log,
    stop: () => {
      context.dataSource.subscribers.splice(context.dataSource.subscribers.indexOf(subscriber), 1);
      context.lockManager.off('released', onReleased);
    },
  };
}

describe('the lock wraps the transaction (commit before unlock)', () => {
  it.each(['pubsub', 'spin', 'mysql'] as const)(
    '%s: every COMMIT completes before its lock is released, and others see the write at once',
    async (strategy) => {
      const productId = `commit-${strategy}`;
      await request(app).put(`/stocks/${productId}`).send({ quantity: 10 }).expect(200);
      const recorder = recordCommitsAndReleases(`stock:${productId}`);
      const readsAtRelease: Promise<number>[] = [];
      const onReleased = (event: LockReleasedEvent) => {
        if (event.key === `stock:${productId}`) readsAtRelease.push(committedQuantity(productId));
      };
      context.lockManager.on('released', onReleased);
      try {
        const written: number[] = [];
        for (let index = 0; index < 5; index++) {
          const response = await request(app)
            .post(`/stocks/${productId}/decrease?strategy=${strategy}`)
            .send({ quantity: 1 });
          expect(response.status).toBe(200);
          written.push(response.body.quantity);
        }
        expect(written).toEqual([9, 8, 7, 6, 5]);
        // Lock inside the transaction would log release, commit, release, commit...
        expect(recorder.log).toEqual(Array(5).fill(['commit', 'release']).flat());
        // Another pool reading right at the release already sees the new value.
        expect(await Promise.all(readsAtRelease)).toEqual(written);
      } finally {
        recorder.stop();
        context.lockManager.off('released', onReleased);
      }
    },
  );

  it('under contention commits and releases alternate, and each holder reads the previous commit', async () => {
    const productId = 'commit-contended';
    await request(app).put(`/stocks/${productId}`).send({ quantity: 30 }).expect(200);
    const recorder = recordCommitsAndReleases(`stock:${productId}`);
    const responses = await Promise.all(
      Array.from({ length: 30 }, () =>
        request(app).post(`/stocks/${productId}/decrease`).send({ quantity: 1 }),
      ),
    ).finally(() => recorder.stop());
    expect(responses.map((response) => response.status)).toEqual(Array(30).fill(200));
    expect(recorder.log).toEqual(Array(30).fill(['commit', 'release']).flat());
    const changes = responses
      .map((response) => response.body as { previousQuantity: number; quantity: number })
      .sort((a, b) => b.previousQuantity - a.previousQuantity);
    // A chain 30 -> 29 -> ... -> 0: every read is the previous write, none is stale.
    expect(changes.map((change) => change.previousQuantity)).toEqual(
      Array.from({ length: 30 }, (_, index) => 30 - index),
    );
    expect(changes.map((change) => change.quantity)).toEqual(
      Array.from({ length: 30 }, (_, index) => 29 - index),
    );
    expect(await committedQuantity(productId)).toBe(0);
  });
});
