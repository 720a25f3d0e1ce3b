import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { backendRequest as request } from '@dlock/conformance';
import { timed } from '@dlock/conformance/fault';
import { LockAbortedError, LockBackendError, LockLostError, LockManager } from '@dlock/core';
import { FaultyLink } from '@dlock/testing';
import type { DataSource } from 'typeorm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createLockDataSource,
  MySqlNamedLockBackend,
  type MySqlNamedLockBackendOptions,
} from '../../src/index.js';
import { dataSources, MYSQL_URL, uniqueSuffix } from '../support/mysql-test-support.js';

// A paused FaultyLink holds every byte in both directions and sends no RST: what a dead switch,
// a dropped VPN or a frozen NAT entry look like to the client.
const suffix = uniqueSuffix();
const keyPrefix = `silent-${suffix}:`;
const sources = dataSources();
const cleanups: (() => Promise<unknown>)[] = [];
let direct: DataSource;
let observer: MySqlNamedLockBackend;

beforeAll(async () => {
  direct = await sources.open(6);
  observer = new MySqlNamedLockBackend(direct, { keyPrefix });
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});
afterAll(async () => {
  await observer.close();
  await sources.destroyAll();
});

/** A backend (and manager) whose DataSource reaches MariaDB only through a FaultyLink. */
async function throughLink(options: MySqlNamedLockBackendOptions = {}) {
  const link = await FaultyLink.start({ target: { host: '127.0.0.1', port: 3306 } });
  const dataSource = await createLockDataSource({
    url: link.url(MYSQL_URL),
    poolSize: 6,
    connectTimeoutMs: 3_000,
  });
  const backend = new MySqlNamedLockBackend(dataSource, { keyPrefix, ...options });
  const manager = new LockManager({ backends: { mysql: backend } });
  cleanups.push(async () => {
    await link.close();
    await Promise.race([dataSource.destroy(), sleep(2_000)]);
  });
  cleanups.push(async () => {
    link.resume();
    await manager.close();
    await backend.close();
  });
  // Warm the pool so a paused link meets idle connections, as in a running app.
  await (await manager.acquire(`warm:${randomUUID()}`)).release();
  return { link, backend, manager };
}

/** After the link is back, the key must be free again within `withinMs` (no session stranded). */
async function expectFreeWithin(key: string, withinMs: number): Promise<number> {
  const startedAt = Date.now();
  const lock = await observer.acquire(request(key, { waitMs: withinMs }));
  expect(lock, `"${key}" still held ${withinMs} ms after the link resumed`).not.toBeNull();
  await lock!.release();
  return Date.now() - startedAt;
}

const report: Record<string, number> = {};
afterAll(() => {
  console.info('silent network timings (ms):', JSON.stringify(report));
});

describe('a network gone silent (paused link, no RST)', () => {
  it('an acquire with waitMs 300 settles within waitMs + the 250 ms reply grace, with a retryable LockBackendError', async () => {
    const { link, manager } = await throughLink();
    link.pause();
    const outcome = await timed(manager.acquire('paused:first', { retry: { waitMs: 300 } }));
    report.acquireWait300PausedBeforeCall = outcome.ms;
    expect(outcome.error).toBeInstanceOf(LockBackendError);
    expect(outcome.error).toMatchObject({
      isRetryable: true,
      message: /did not answer GET_LOCK .*retry\.waitMs/,
    });
    expect(outcome.ms).toBeGreaterThanOrEqual(290);
    expect(outcome.ms).toBeLessThan(300 + 250 + 1_000);
    link.resume();
    report.freeAfterResumeFirst = await expectFreeWithin('paused:first', 10_000);
  });

  it('an acquire already waiting in GET_LOCK when the link goes silent still settles within waitMs + grace', async () => {
    const { link, manager } = await throughLink();
    const held = (await observer.acquire(request('paused:waiting')))!;
    const outcome = timed(manager.acquire('paused:waiting', { retry: { waitMs: 600 } }));
    await sleep(150); // inside a GET_LOCK slice on the server by now
    link.pause();
    const { ms, error } = await outcome;
    report.acquireWait600PausedWhileWaiting = ms;
    expect(error).toBeInstanceOf(LockBackendError);
    expect(ms).toBeLessThan(600 + 250 + 1_000);
    await held.release();
    link.resume();
    report.freeAfterResumeWaiting = await expectFreeWithin('paused:waiting', 10_000);
  });

  it("the caller's abort settles a waiting acquire at once", async () => {
    const { link, manager } = await throughLink();
    const held = (await observer.acquire(request('paused:abort')))!;
    const controller = new AbortController();
    const waiting = timed(
      manager.acquire('paused:abort', { retry: { waitMs: 30_000 }, signal: controller.signal }),
    );
    await sleep(150);
    link.pause();
    await sleep(100);
    const abortedAt = Date.now();
    controller.abort(new Error('client went away'));
    const { error } = await waiting;
    report.abortSettled = Date.now() - abortedAt;
    expect(error).toBeInstanceOf(LockAbortedError);
    expect(report.abortSettled).toBeLessThan(500);
    await held.release();
    link.resume();
    report.freeAfterResumeAbort = await expectFreeWithin('paused:abort', 10_000);
  });

  it('extend and release of a held lock reject with a retryable LockBackendError within commandTimeoutMs + grace; the lock counts as lost', async () => {
    const { link, backend } = await throughLink({ commandTimeoutMs: 1_000 });
    const renewed = (await backend.acquire(request('paused:extend')))!;
    const released = (await backend.acquire(request('paused:release')))!;
    link.pause();
    const [extend, release] = await Promise.all([timed(renewed.extend(30_000)), timed(released.release())]);
    report.extendPaused = extend.ms;
    report.releasePaused = release.ms;
    for (const outcome of [extend, release]) {
      expect(outcome.error).toBeInstanceOf(LockBackendError);
      expect(outcome.error).toMatchObject({ isRetryable: true, message: /commandTimeoutMs \(1000 ms\)/ });
      expect(outcome.ms).toBeGreaterThanOrEqual(950);
      expect(outcome.ms).toBeLessThan(1_000 + 2_000);
    }
    expect(renewed.lostSignal?.aborted).toBe(true);
    expect(await renewed.extend(30_000)).toBe(false);
    expect(backend.connectionsInUse).toBe(0);
    link.resume();
    report.freeAfterResumeExtend = await expectFreeWithin('paused:extend', 10_000);
    report.freeAfterResumeRelease = await expectFreeWithin('paused:release', 10_000);
  });

  it('manager.close() with a waiter and a held lock resolves within about commandTimeoutMs', async () => {
    const { link, manager } = await throughLink({ commandTimeoutMs: 1_000 });
    const blocker = (await observer.acquire(request('paused:close-wait')))!;
    const handle = await manager.acquire('paused:close-held');
    const waiter = manager
      .acquire('paused:close-wait', { retry: { waitMs: 30_000 } })
      .catch((error: unknown) => error);
    await sleep(150);
    link.pause();
    const closing = await timed(manager.close());
    report.managerClosePaused = closing.ms;
    expect(closing.error).toBeUndefined();
    expect(closing.ms).toBeLessThan(1_000 + 2_000);
    expect(await waiter).toBeInstanceOf(LockBackendError);
    await expect(handle.release()).rejects.toBeInstanceOf(LockLostError);
    await blocker.release();
    link.resume();
    report.freeAfterResumeCloseHeld = await expectFreeWithin('paused:close-held', 10_000);
    report.freeAfterResumeCloseWait = await expectFreeWithin('paused:close-wait', 10_000);
  });

  it('backend.close() interrupts at once with the default commandTimeoutMs: waits are destroyed, releases get 250 ms', async () => {
    const { link, backend } = await throughLink();
    const blocker = (await observer.acquire(request('paused:bclose-wait')))!;
    const held = (await backend.acquire(request('paused:bclose-held')))!;
    const waiter = backend
      .acquire(request('paused:bclose-wait', { waitMs: 30_000 }))
      .catch((error: unknown) => error);
    await sleep(150);
    link.pause();
    const closing = await timed(backend.close());
    report.backendClosePaused = closing.ms;
    expect(closing.ms).toBeLessThan(1_500);
    expect(await waiter).toBeInstanceOf(LockBackendError);
    expect(await held.release()).toBe(false);
    expect(backend.connectionsInUse).toBe(0);
    await blocker.release();
    link.resume();
    report.freeAfterResumeBackendClose = await expectFreeWithin('paused:bclose-held', 10_000);
  });

  it('a try-once acquire through a silent link fails after commandTimeoutMs, not hours', async () => {
    const { link, manager } = await throughLink({ commandTimeoutMs: 800 });
    link.pause();
    const outcome = await timed(manager.acquire('paused:try-once'));
    report.tryOncePaused = outcome.ms;
    expect(outcome.error).toBeInstanceOf(LockBackendError);
    expect(outcome.error).toMatchObject({ message: /commandTimeoutMs \(800 ms\)/ });
    expect(outcome.ms).toBeLessThan(800 + 2_000);
    link.resume();
    report.freeAfterResumeTryOnce = await expectFreeWithin('paused:try-once', 10_000);
  });
});
