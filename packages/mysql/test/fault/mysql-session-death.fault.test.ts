import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { startWorker } from '@dlock/conformance';
import { LockLostError, LockManager, LockNotAcquiredError } from '@dlock/core';
import type { DataSource } from 'typeorm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MySqlNamedLockBackend } from '../../src/index.js';
import { dataSources, MYSQL_URL, uniqueSuffix } from '../support/mysql-test-support.js';

const keyPrefix = `fault-${uniqueSuffix()}:`;
const sources = dataSources();
const open: { close(): Promise<void> }[] = [];
let admin: DataSource;

beforeAll(async () => {
  admin = await sources.open(4);
});
afterEach(async () => {
  await Promise.allSettled(open.splice(0).map((item) => item.close()));
});
afterAll(async () => {
  await sources.destroyAll();
});

function managerWithBackend() {
  const backend = new MySqlNamedLockBackend(admin, { keyPrefix, maxConnections: 2 });
  const manager = new LockManager({ backends: { mysql: backend } });
  open.push(manager, backend);
  return { backend, manager };
}

async function holderOf(backend: MySqlNamedLockBackend, key: string): Promise<number | null> {
  const [row] = (await admin.query('SELECT IS_USED_LOCK(?) AS holder', [backend.lockNameOf(key)])) as {
    holder: number | null;
  }[];
  return row?.holder ?? null;
}

describe.sequential('the holding session dies', () => {
  it('SIGKILL of the holder process: the lock frees when the server sees the session end, long before the lease', async () => {
    const { backend, manager } = managerWithBackend();
    const key = 'sigkill';
    const worker = startWorker({
      script: fileURLToPath(new URL('../workers/holder-worker.ts', import.meta.url)),
      env: { MYSQL_URL, KEY_PREFIX: keyPrefix, LOCK_KEY: key },
      timeoutMs: 60_000,
    });
    const line = await worker.waitForLine('holding');
    const workerSession = Number(line.split(' ')[1]);
    expect(await holderOf(backend, key)).toBe(workerSession);
    await expect(manager.withLock(key, {}, async () => 'ran')).rejects.toBeInstanceOf(LockNotAcquiredError);

    const waiter = manager.withLock(key, { retry: { waitMs: 20_000 } }, async () => Date.now());
    await sleep(200);
    const killedAt = Date.now();
    worker.kill('SIGKILL');
    const acquiredAt = await waiter;
    // The worker's lease was 60 s: only the session's end can explain a hand-off this fast.
    expect(acquiredAt - killedAt).toBeLessThan(10_000);
    expect((await worker.exited).signal).toBe('SIGKILL');
  }, 60_000);

  it('KILL <connection id> of the holding connection: lost is reported, the signal aborts, the call rejects with LockLostError', async () => {
    const { backend, manager } = managerWithBackend();
    const key = 'kill-connection';
    const lost: string[] = [];
    manager.on('lost', (event) => lost.push(event.key));
    let entered: () => void = () => {};
    const inside = new Promise<void>((resolve) => {
      entered = resolve;
    });
    let abortReason: unknown;
    const run = manager.withLock(key, { leaseMs: 60_000 }, async (scope) => {
      entered();
      await new Promise<void>((resolve) => {
        scope.signal.addEventListener('abort', () => resolve(), { once: true });
      });
      abortReason = scope.signal.reason;
      return 'finished';
    });
    const outcome = run.then(
      () => 'resolved',
      (error: unknown) => error,
    );
    await inside;
    const session = await holderOf(backend, key);
    expect(session).toEqual(expect.any(Number));
    const killedAt = Date.now();
    await admin.query('KILL ?', [session]);

    const error = await outcome;
    expect(error).toBeInstanceOf(LockLostError);
    expect(abortReason).toBeInstanceOf(LockLostError);
    expect(lost).toEqual([key]);
    // Reported by the backend's lostSignal when the session dies, not by the first renewal 20 s later.
    expect(Date.now() - killedAt).toBeLessThan(10_000);
    // The server dropped the lock with the session: anyone can take it now.
    expect(await holderOf(backend, key)).toBeNull();
    await expect(manager.withLock(key, {}, async () => 'ran')).resolves.toBe('ran');
    expect(backend.connectionsInUse).toBe(0);
  });
});
