import { randomUUID } from 'node:crypto';
import { getEventListeners } from 'node:events';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MySqlNamedLockBackend } from '../src/index.js';
import { dataSources, uniqueSuffix } from './support/mysql-test-support.js';

const sources = dataSources();
let dataSource: DataSource;

beforeAll(async () => {
  dataSource = await sources.open(4);
});
afterAll(() => sources.destroyAll());

/**
 * Signals `AbortSignal.any()` made from `signal` and still tracks. Node keeps them in an internal
 * set on the parent; reading it is the only way to see that leak from outside.
 */
function dependentSignals(signal: AbortSignal): number {
  const symbol = Object.getOwnPropertySymbols(signal).find((candidate) =>
    String(candidate).includes('kDependantSignals'),
  );
  const set = symbol === undefined ? undefined : (signal as unknown as Record<symbol, Set<unknown>>)[symbol];
  return set?.size ?? 0;
}

describe('signals of finished calls are detached', () => {
  it('200 acquisitions with one long-lived signal leave no listener and no dependent signal on it', async () => {
    const backend = new MySqlNamedLockBackend(dataSource, { keyPrefix: `sig-${uniqueSuffix()}:` });
    // Stands in for the backend's own closing signal, which every call links to the same way.
    const longLived = new AbortController().signal;
    for (let i = 0; i < 200; i++) {
      const lock = await backend.acquire({
        key: `signal:${i % 3}`,
        token: randomUUID(),
        leaseMs: 10_000,
        waitMs: 0,
        signal: longLived,
      });
      await lock?.release();
    }
    expect(getEventListeners(longLived, 'abort')).toHaveLength(0);
    expect(dependentSignals(longLived)).toBe(0);
    await backend.close();
  });
});
