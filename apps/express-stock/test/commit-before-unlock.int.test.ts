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
  observer = await connectAppDataSource({ ...context.config, appPoolSize: 2 });
});

afterAll(async () => {
  await observer?.destroy();
  if (context) {
    await dropTables(context.dataSource, context.config.tablePrefix);
    await context.close();
  }
});

/** The app's stock row (`strategy` undefined) or a demo race row, as another pool sees it. */
async function committedQuantity(productId: string, strategy?: string): Promise<number> {
  const prefix = context.config.tablePrefix;
  const rows: { quantity: number }[] =
    strategy === undefined
      ? await observer.query(`SELECT quantity FROM \`${prefix}stock\` WHERE product_id = ?`, [productId])
      : await observer.query(
          `SELECT quantity FROM \`${prefix}race_stock\` WHERE strategy = ? AND product_id = ?`,
          [strategy, productId],
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
  it.each([
    ['the app route (pub/sub)', undefined],
    ['race pubsub', 'pubsub'],
    ['race spin', 'spin'],
    ['race mysql', 'mysql'],
  ] as const)(
    '%s: every COMMIT completes before its lock is released, and others see the write at once',
    async (_name, strategy) => {
      const productId = `commit-${strategy ?? 'app'}`;
      const path = strategy ? `/race/${strategy}/stocks/${productId}` : `/stocks/${productId}`;
      const key = strategy ? `race:${strategy}:${productId}` : `stock:${productId}`;
      await request(app).put(path).send({ quantity: 10 }).expect(200);
      const recorder = recordCommitsAndReleases(key);
      const readsAtRelease: Promise<number>[] = [];
      const onReleased = (event: LockReleasedEvent) => {
        if (event.key === key) readsAtRelease.push(committedQuantity(productId, strategy));
      };
      context.lockManager.on('released', onReleased);
      try {
        const written: number[] = [];
        for (let index = 0; index < 5; index++) {
          const response = await request(app).post(`${path}/decrease`).send({ quantity: 1 });
          expect(response.status).toBe(200);
          written.push(response.body.quantity);
        }
        expect(written).toEqual([9, 8, 7, 6, 5]);
        // Lock inside the transaction would log release, commit, release, commit...
        expect(recorder.log).toEqual(Array(5).fill(['commit', 'release']).flat());
        // Another pool reading from the release on already sees the new value: never the one
        // before it. (It may see a later one: on a loaded machine the read can run after the next
        // decrease has committed, and stock only goes down.)
        const reads = await Promise.all(readsAtRelease);
        expect(reads).toHaveLength(written.length);
        for (const [index, read] of reads.entries()) expect(read).toBeLessThanOrEqual(written[index]!);
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
