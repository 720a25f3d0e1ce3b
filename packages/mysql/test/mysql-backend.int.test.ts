import { setTimeout as sleep } from 'node:timers/promises';
import { backendRequest as request } from '@dlock/conformance';
import { LockBackendError, LockCapacityError, LockManager } from '@dlock/core';
import { describe, expect, it } from 'vitest';
import { MySqlNamedLockBackend } from '../src/index.js';
import { useMySqlBackends } from './support/mysql-backends-fixture.js';

const { backend, closeAfterTest, holder, keyPrefix, victimTable, dataSource, sources } = useMySqlBackends();

describe('one session per held lock', () => {
  it('each lock is held by its own connection, which only it can release, and which goes back to the pool', async () => {
    const a = backend();
    const [one, two] = [(await a.acquire(request('session:1')))!, (await a.acquire(request('session:2')))!];
    const [first, second] = [
      await holder(a.lockNameOf('session:1')),
      await holder(a.lockNameOf('session:2')),
    ];
    expect(first).toEqual(expect.any(Number));
    expect(second).toEqual(expect.any(Number));
    expect(first).not.toBe(second);
    expect(a.connectionsInUse).toBe(2);

    // Another session cannot release it: the server answers 0 and the lock stays.
    const [row] = (await dataSource().query('SELECT RELEASE_LOCK(?) AS released', [
      a.lockNameOf('session:1'),
    ])) as {
      released: number;
    }[];
    expect(row?.released).toBe(0);
    expect(await backend().acquire(request('session:1'))).toBeNull();

    expect(await one.release()).toBe(true);
    expect(await two.release()).toBe(true);
    expect(a.connectionsInUse).toBe(0);
    expect(await holder(a.lockNameOf('session:1'))).toBeNull();
  });

  it('close() releases locks still held, and their holder then sees them as gone', async () => {
    const a = new MySqlNamedLockBackend(dataSource(), { keyPrefix });
    const lock = (await a.acquire(request('closing')))!;
    await a.close();
    expect(await holder(a.lockNameOf('closing'))).toBeNull();
    expect(await lock.release()).toBe(false);
    expect(await lock.extend(1_000)).toBe(false);
    await expect(a.acquire(request('closing'))).rejects.toBeInstanceOf(LockBackendError);
  });
});

describe('bad input stays a harmless, distinct lock name', () => {
  it(`a key with quotes and "'; DROP TABLE ..." locks normally and drops nothing`, async () => {
    const [a, b] = [backend(), backend()];
    const keys = [`x'; DROP TABLE ${victimTable}; --`, `"); DROP TABLE ${victimTable}; --`, "a\\'b`c"];
    const locks = await Promise.all(keys.map((key) => a.acquire(request(key))));
    expect(locks.every((lock) => lock !== null)).toBe(true);
    for (const key of keys) expect(await b.acquire(request(key))).toBeNull();
    for (const lock of locks) expect(await lock!.release()).toBe(true);
    const rows = (await dataSource().query(`SELECT COUNT(*) AS n FROM \`${victimTable}\``)) as {
      n: number;
    }[];
    expect(Number(rows[0]?.n)).toBe(1);
  });

  it('keys of 65 and 1000 characters, and keys sharing a long head, lock independently', async () => {
    const [a, b] = [backend(), backend()];
    const keys = ['k'.repeat(65), `${'k'.repeat(64)}2`, 'm'.repeat(1000), `${'m'.repeat(999)}2`];
    const locks = await Promise.all(keys.map((key) => a.acquire(request(key))));
    expect(locks.every((lock) => lock !== null)).toBe(true);
    for (const key of keys) {
      expect(a.lockNameOf(key).length).toBeLessThanOrEqual(64);
      expect(await b.acquire(request(key))).toBeNull();
    }
    for (const lock of locks) expect(await lock!.release()).toBe(true);
  });

  it('keys differing only in case are different locks', async () => {
    const [a, b] = [backend(), backend()];
    const upper = (await a.acquire(request('Order:ABC')))!;
    const lower = await b.acquire(request('order:abc'));
    expect(lower).not.toBeNull();
    expect(await b.acquire(request('Order:ABC'))).toBeNull();
    expect(await a.acquire(request('order:abc'))).toBeNull();
    expect(await upper.release()).toBe(true);
    expect(await lower!.release()).toBe(true);
  });

  it('unicode keys lock, exclude and stay distinct', async () => {
    const [a, b] = [backend(), backend()];
    const keys = ['재고:42', '재고:43', '🔒:1', 'e\u0301', '\u00e9'];
    const locks = await Promise.all(keys.map((key) => a.acquire(request(key))));
    expect(locks.every((lock) => lock !== null)).toBe(true);
    for (const key of keys) expect(await b.acquire(request(key))).toBeNull();
    for (const lock of locks) expect(await lock!.release()).toBe(true);
  });
});

describe('many keys', () => {
  it('one process holds 60 distinct keys at once through a LockManager, each on its own connection', async () => {
    const a = backend({ maxConnections: 70 });
    const manager = new LockManager({ backends: { mysql: a } });
    closeAfterTest(manager);
    const keys = Array.from({ length: 60 }, (_, i) => `many:${i}`);
    let inside = 0;
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const runs = keys.map((key) =>
      manager.withLock(key, { retry: { waitMs: 10_000 } }, async () => {
        inside++;
        await gate;
      }),
    );
    while (inside < keys.length) await sleep(20);
    expect(a.connectionsInUse).toBe(60);
    const holders = await Promise.all(keys.map((key) => holder(a.lockNameOf(key))));
    expect(new Set(holders).size).toBe(60);
    release();
    await Promise.all(runs);
    expect(a.connectionsInUse).toBe(0);
  });
});

describe('waiting', () => {
  it('whole-second servers (MySQL) still honour waitMs to the millisecond: the slice is cut at the deadline', async () => {
    const [a, b] = [backend(), backend({ fractionalTimeouts: false })];
    const held = (await a.acquire(request('seconds')))!;
    const startedAt = Date.now();
    expect(await b.acquire(request('seconds', { waitMs: 1_300 }))).toBeNull();
    const waited = Date.now() - startedAt;
    expect(waited).toBeGreaterThanOrEqual(1_290);
    expect(waited).toBeLessThan(1_900); // GET_LOCK(name, 2) alone would take 2000 ms
    expect(await held.release()).toBe(true);
    expect(await b.acquire(request('seconds'))).not.toBeNull();
  });

  it('a waiting session is woken by the release, not by the end of its slice', async () => {
    const [a, b] = [backend(), backend({ waitSliceMs: 20_000 })];
    const held = (await a.acquire(request('wake')))!;
    const waiting = b.acquire(request('wake', { waitMs: 20_000 }));
    await sleep(300);
    const releasedAt = Date.now();
    await held.release();
    const lock = await waiting;
    expect(lock).not.toBeNull();
    expect(Date.now() - releasedAt).toBeLessThan(1_000);
    await lock!.release();
  });

  it('abort settles a long slice at once; the abandoned session is ended (KILL) and holds nothing soon after', async () => {
    const [a, b] = [backend(), backend({ waitSliceMs: 20_000, fractionalTimeouts: false })];
    const held = (await a.acquire(request('abort')))!;
    const controller = new AbortController();
    const waiting = b.acquire(request('abort', { waitMs: 20_000, signal: controller.signal }));
    await sleep(200);
    const abortedAt = Date.now();
    controller.abort(new Error('caller gave up'));
    await expect(waiting).rejects.toThrow('caller gave up');
    expect(Date.now() - abortedAt).toBeLessThan(500);
    expect(b.connectionsInUse).toBe(0);
    await held.release();
    // The abandoned GET_LOCK is ended from another connection (KILL) right after the abort, so at
    // worst it takes the lock for an instant; it never keeps it, and it never reports it to anyone.
    const freedBy = Date.now() + 2_000;
    while ((await holder(a.lockNameOf('abort'))) !== null && Date.now() < freedBy) await sleep(10);
    expect(await holder(a.lockNameOf('abort'))).toBeNull();
  });

  it('GET_LOCK answering NULL (the wait was killed from outside) is a LockBackendError, not "held"', async () => {
    const [a, b] = [backend(), backend()];
    const held = (await a.acquire(request('null')))!;
    const name = a.lockNameOf('null');
    const waiting = b.acquire(request('null', { waitMs: 20_000 }));
    const outcome = waiting.then(
      () => 'resolved',
      (error: unknown) => error,
    );
    let sessionId: number | undefined;
    for (let i = 0; i < 100 && sessionId === undefined; i++) {
      const rows = (await dataSource().query(
        "SELECT ID AS id FROM information_schema.PROCESSLIST WHERE INFO LIKE CONCAT('SELECT GET_LOCK(''', ?, '''%')",
        [name],
      )) as { id: number | string }[];
      // information_schema ids are BIGINT, which TypeORM's mysql2 settings return as strings.
      sessionId = rows[0] === undefined ? undefined : Number(rows[0].id);
      if (sessionId === undefined) await sleep(20);
    }
    expect(sessionId).toEqual(expect.any(Number));
    await dataSource().query('KILL QUERY ?', [sessionId]);
    const error = await outcome;
    expect(error).toBeInstanceOf(LockBackendError);
    expect((error as LockBackendError).message).toMatch(/NULL/);
    await held.release();
  });
});

describe('connections', () => {
  it('all maxConnections busy is a LockCapacityError naming maxConnections (not a store failure), for try-once and for waits that saw no slot free; a waiting caller gets the next free one', async () => {
    const a = backend({ maxConnections: 1 });
    const first = (await a.acquire(request('slots:1')))!;
    const tryOnce = await a.acquire(request('slots:2')).catch((error: unknown) => error);
    expect(tryOnce).toBeInstanceOf(LockCapacityError);
    expect(LockBackendError.isInstance(tryOnce)).toBe(false);
    expect(tryOnce).toMatchObject({
      code: 'LOCK_CAPACITY_EXCEEDED',
      limit: 'maxConnections',
      backend: 'mysql',
    });
    expect((tryOnce as Error).message).toMatch(/local limit of this process.*raise maxConnections/);
    const shortWait = await a.acquire(request('slots:2', { waitMs: 150 })).catch((error: unknown) => error);
    expect(shortWait).toBeInstanceOf(LockCapacityError);
    expect((shortWait as Error).message).toMatch(/within 150 ms/);
    const waiting = a.acquire(request('slots:2', { waitMs: 5_000 }));
    await sleep(100);
    expect(await first.release()).toBe(true);
    const second = await waiting;
    expect(second).not.toBeNull();
    expect(await second!.release()).toBe(true);
  });

  it('a short waitMs on a pool that must open new connections still takes a free lock: opening is bounded by connectionTimeoutMs, not by waitMs', async () => {
    // A fresh pool holds one idle connection (TypeORM's check at initialize); every further lock
    // held at once needs a new one, whose TCP connect and handshake take longer than 1 ms.
    const fresh = await sources.open(8);
    const a = backend({ maxConnections: 6 }, fresh);
    const manager = new LockManager({ backends: { mysql: a } });
    closeAfterTest(manager);
    const handles = [];
    for (let i = 0; i < 5; i++) {
      handles.push(await manager.acquire(`fresh:${i}`, { retry: { waitMs: 1 } }));
    }
    expect(a.connectionsInUse).toBe(5);
    for (const handle of handles) await handle.release();
  });

  it('a pool drained by the application fails within connectionTimeoutMs instead of hanging', async () => {
    const small = await sources.open(2);
    const busy = [small.createQueryRunner(), small.createQueryRunner()];
    await Promise.all(busy.map((runner) => runner.connect()));
    try {
      const a = backend({ maxConnections: 2, connectionTimeoutMs: 300 }, small);
      const startedAt = Date.now();
      await expect(a.acquire(request('drained'))).rejects.toThrow(
        /No MySQL connection .* within 300 ms \(connectionTimeoutMs\)/,
      );
      expect(Date.now() - startedAt).toBeLessThan(3_000);
    } finally {
      await Promise.all(busy.map((runner) => runner.release()));
    }
  });
});
