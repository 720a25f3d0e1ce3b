import { backendRequest as request } from '@dlock/conformance';
import type { BackendLock } from '@dlock/core';
import { describe, expect, it } from 'vitest';
import { useMySqlBackends } from './support/mysql-backends-fixture.js';

const { backend, dataSource, fencingTable } = useMySqlBackends();

describe('fencing tokens', () => {
  it('are absent unless fencingTable is set', async () => {
    const lock = (await backend().acquire(request('no-fence')))!;
    expect(lock.fencingToken).toBeUndefined();
    await lock.release();
  });

  it('come from one counter row per lock name and strictly increase across backends, seeded from the database clock', async () => {
    const [a, b] = [backend({ fencingTable }), backend({ fencingTable })];
    const tokens: number[] = [];
    const before = Date.now() * 1000;
    for (const source of [a, b, a]) {
      const lock: BackendLock = (await source.acquire(request('fenced')))!;
      tokens.push(lock.fencingToken!);
      await lock.release();
    }
    expect(tokens[1]).toBeGreaterThan(tokens[0]!);
    expect(tokens[2]).toBeGreaterThan(tokens[1]!);
    // µs since the epoch on the database clock (same machine here: within a minute of ours).
    expect(Math.abs(tokens[0]! - before)).toBeLessThan(60_000_000);
    const rows = (await dataSource().query(`SELECT token FROM \`${fencingTable}\` WHERE name = ?`, [
      a.lockNameOf('fenced'),
    ])) as { token: number }[];
    expect(Number(rows[0]?.token)).toBe(tokens[2]);
  });

  it('prunes rows of names not locked for an hour, and a pruned name never gets a lower or reused token', async () => {
    const source = backend({ fencingTable });
    // Make sure the table exists, then plant a stale row (an old-style small counter, untouched for ages).
    await (await source.acquire(request('warm-up')))!.release();
    const stale = source.lockNameOf('stale-name');
    await dataSource().query(`INSERT INTO \`${fencingTable}\` (name, token) VALUES (?, 41)`, [stale]);
    // A fresh backend prunes on its first fencing insert (then at most once a minute).
    const fresh = backend({ fencingTable });
    await (await fresh.acquire(request('other-name')))!.release();
    // The prune runs in the background on another connection: wait for it (generously).
    await expect
      .poll(
        async () =>
          (await dataSource().query(`SELECT token FROM \`${fencingTable}\` WHERE name = ?`, [
            stale,
          ])) as unknown[],
        { timeout: 10_000, interval: 50 },
      )
      .toEqual([]);
    const lock = (await fresh.acquire(request('stale-name')))!;
    expect(lock.fencingToken).toBeGreaterThan(41);
    await lock.release();
  });
});
