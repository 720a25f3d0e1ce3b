import { heapUsedAfterGc } from '@dlock/conformance';
import { LockManager } from '@dlock/core';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MySqlNamedLockBackend } from '../src/index.js';
import { dataSources, uniqueSuffix } from './support/mysql-test-support.js';

// Issue #18 for MySQL: the fencing table stays bounded and nothing per key stays in the process.
// 10,000 keys instead of the Redis tests' 100,000: every MySQL acquisition is three statements on a
// pooled connection (GET_LOCK, the fencing INSERT, RELEASE_LOCK), about a millisecond each here, so
// 100,000 would take minutes; 10,000 go through the same per-key paths (and eleven prune batches).
// No timing assertions: only counts and bytes.
const KEYS = 10_000;
const IN_FLIGHT = 8;
const suffix = uniqueSuffix();
const fencingTable = `dlock_fencing_mem_${suffix}`;
const sources = dataSources();
let dataSource: DataSource;

async function rows(): Promise<number> {
  const [row] = (await dataSource.query(`SELECT COUNT(*) AS n FROM \`${fencingTable}\``)) as { n: number }[];
  return Number(row?.n);
}

beforeAll(async () => {
  dataSource = await sources.open(IN_FLIGHT + 2);
});
afterAll(async () => {
  await dataSource.query(`DROP TABLE IF EXISTS \`${fencingTable}\``);
  await sources.destroyAll();
});

describe('memory per key (mysql, issue #18)', () => {
  it(`locks and releases ${KEYS} distinct keys: the heap returns to baseline, idle fencing rows are pruned, tokens never go back`, async () => {
    const backend = new MySqlNamedLockBackend(dataSource, { keyPrefix: `mem-${suffix}:`, fencingTable });
    const manager = new LockManager({ backends: { mysql: backend } });
    const lockAll = async (prefix: string, count: number, onToken?: (key: string, token: number) => void) => {
      let next = 0;
      await Promise.all(
        Array.from({ length: IN_FLIGHT }, async () => {
          while (next < count) {
            const key = `${prefix}:${next++}`;
            const lock = await manager.acquire(key);
            onToken?.(key, lock.fencingToken!);
            await lock.release();
          }
        }),
      );
    };
    // Warm-up pass over 1,000 other keys with the same concurrency: pooled connections, driver
    // caches and optimized code (about 0.7 MB, whatever the number of keys) exist before the baseline.
    await lockAll('warm', 1_000);
    const baseHeap = heapUsedAfterGc();

    const firstTokens = new Map<string, number>();
    await lockAll('order', KEYS, (key, token) => {
      if (key.endsWith('7')) firstTokens.set(key, token);
    });
    const tokensKept = firstTokens.size;
    firstTokens.clear();
    // Nothing per key in the process: the growth is a fixed ~0.3 MB (driver and V8 internals; the
    // same for 5,000 or 15,000 keys), well under 50 bytes per key released.
    expect(heapUsedAfterGc() - baseHeap).toBeLessThan(512 * 1024);
    // Within the retention every name locked keeps its row (that is what keeps tokens increasing).
    expect(await rows()).toBe(KEYS + 1_000);
    await manager.close();

    // An hour and more later (aged by hand): a fresh backend prunes them in batches of 1000, in the
    // background on another connection, one batch per acquisition while batches come back full.
    const oldToken = await dataSource.query(`SELECT MAX(token) AS t FROM \`${fencingTable}\``);
    await dataSource.query(`UPDATE \`${fencingTable}\` SET token = token - 7200000000`);
    const fresh = new LockManager({
      backends: {
        mysql: new MySqlNamedLockBackend(dataSource, { keyPrefix: `mem-${suffix}:`, fencingTable }),
      },
    });
    let round = 0;
    while ((await rows()) > round && round < 200) {
      await (await fresh.acquire(`after:${round}`)).release();
      round++;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    // Only the names locked since remain.
    expect(await rows()).toBe(round);
    expect(round).toBeLessThan(200);
    // A pruned name starts again from the database clock: above every token it ever had.
    const again = await fresh.acquire('order:7');
    expect(again.fencingToken).toBeGreaterThan(Number((oldToken as { t: number }[])[0]!.t));
    await again.release();
    await fresh.close();
    expect(tokensKept).toBeGreaterThan(0);
  }, 120_000);
});
