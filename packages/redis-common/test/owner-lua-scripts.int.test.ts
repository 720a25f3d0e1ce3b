import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runRwReadAcquireScript, runRwReadReleaseScript } from '../src/generated/lua-scripts.js';
import {
  redisLockKeys,
  redisReadLockKeys,
  runAcquireScript,
  runExtendScript,
  runReleaseScript,
} from '../src/index.js';

// The owner record the scripts keep beside the lock: written in the acquire call, with the lock's
// expiry, moved to the waiter a handoff names, deleted with the lock, and not written at all for a
// caller that records nothing.
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `test:owner:${randomUUID().slice(0, 8)}:`;
let redis: Redis;
let counter = 0;
const freshKeys = () => redisLockKeys(prefix, `key-${++counter}`);
type Keys = ReturnType<typeof freshKeys>;
const HANDOFF_LEASE_MS = 2_000;
const pub = { handoffLeaseMs: HANDOFF_LEASE_MS, publishCommand: 'PUBLISH' } as const;

/** The JSON a caller named `label` records (`''`: a caller with recordOwner: false). */
const recordOf = (label: string) => JSON.stringify({ h: 'host-1', p: 42, a: 'app', l: label });

const acquire = (
  keys: Keys,
  token: string,
  options: { leaseMs?: number; queueWaitMs?: number; record?: string } = {},
) =>
  runAcquireScript(redis, keys, {
    token,
    leaseMs: options.leaseMs ?? 10_000,
    queueWaitMs: options.queueWaitMs ?? 0,
    ownerRecord: options.record ?? recordOf(token),
    ...pub,
  });
const queueFor = (keys: Keys, token: string, record = recordOf(token)) =>
  acquire(keys, token, { queueWaitMs: 10_000, record });
const release = (keys: Keys, token: string, recordOwner = 1, fenceRetentionMs = 0) =>
  runReleaseScript(redis, keys, { token, fenceRetentionMs, recordOwner, ...pub });

/** The owner key read: token, acquired-at and JSON record, or null when absent. */
async function ownerRecord(keys: Keys) {
  const value = await redis.get(keys.owner);
  if (value === null) return null;
  const [token, acquiredAt, json] = value.split('\n');
  return { token, acquiredAt: Number(acquiredAt), record: JSON.parse(json!) as Record<string, unknown> };
}

/** PTTL of the lock and of its owner key, read together (one MULTI). */
async function ttls(keys: Keys): Promise<[number, number]> {
  const replies = await redis.multi().pttl(keys.lock).pttl(keys.owner).exec();
  return [replies![0]![1] as number, replies![1]![1] as number];
}

beforeAll(async () => {
  redis = new Redis(REDIS_URL, { enableOfflineQueue: false, lazyConnect: true });
  await redis.connect();
});
afterAll(async () => {
  const leftovers = await redis.keys(`${prefix}*`);
  if (leftovers.length) await redis.del(...leftovers);
  await redis.quit();
});

describe('owner records in the mutex scripts', () => {
  it('acquire writes "<token>\\n<server ms>\\n<JSON>" with the lock\'s expiry; extend renews both; release deletes both', async () => {
    const keys = freshKeys();
    const [seconds] = await redis.time();
    expect((await acquire(keys, 'holder', { leaseMs: 5_000 }))[0]).toBe(1);
    const owner = await ownerRecord(keys);
    expect(owner).toMatchObject({ token: 'holder', record: { h: 'host-1', p: 42, a: 'app', l: 'holder' } });
    expect(Math.abs(owner!.acquiredAt - Number(seconds) * 1000)).toBeLessThan(5_000);
    const [lockTtl, ownerTtl] = await ttls(keys);
    expect(lockTtl).toBeGreaterThan(0);
    expect(ownerTtl).toBe(lockTtl);

    expect(await runExtendScript(redis, keys, { token: 'holder', leaseMs: 60_000, recordOwner: 1 })).toBe(
      true,
    );
    const [extendedLock, extendedOwner] = await ttls(keys);
    expect(extendedLock).toBeGreaterThan(50_000);
    expect(extendedOwner).toBe(extendedLock);
    // Someone else's extend touches neither.
    expect(await runExtendScript(redis, keys, { token: 'intruder', leaseMs: 1, recordOwner: 1 })).toBe(false);
    expect((await ttls(keys))[1]).toBeGreaterThan(50_000);

    expect(await release(keys, 'holder')).toBe(true);
    expect(await redis.exists(keys.lock, keys.owner)).toBe(0);
  });

  it('a release that keeps a tombstone deletes the owner record', async () => {
    const keys = freshKeys();
    await acquire(keys, 'holder');
    expect(await release(keys, 'holder', 1, 60_000)).toBe(true);
    expect(await redis.exists(keys.lock)).toBe(1);
    expect(await redis.exists(keys.owner)).toBe(0);
  });

  it('a lock whose lease ran out, taken by another, shows the new owner (the old record expired with it)', async () => {
    const keys = freshKeys();
    await acquire(keys, 'stale', { leaseMs: 100 });
    await sleep(250);
    expect(await redis.exists(keys.owner)).toBe(0);
    expect((await acquire(keys, 'fresh'))[0]).toBe(1);
    expect((await ownerRecord(keys))?.token).toBe('fresh');
  });

  it("a queued waiter's record waits in the queue hash, and the handoff makes it the owner record on the pickup lease", async () => {
    const keys = freshKeys();
    await acquire(keys, 'holder');
    expect((await queueFor(keys, 'waiter'))[0]).toBe(0);
    expect(await redis.hget(keys.queueOwners, 'waiter')).toBe(recordOf('waiter'));
    const queueTtl = await redis.pttl(keys.queue);
    expect(await redis.pttl(keys.queueOwners)).toBeGreaterThanOrEqual(queueTtl - 50);

    expect(await release(keys, 'holder')).toBe(true);
    expect(await ownerRecord(keys)).toMatchObject({ token: 'waiter', record: { l: 'waiter' } });
    const [lockTtl, ownerTtl] = await ttls(keys);
    expect(lockTtl).toBeLessThanOrEqual(HANDOFF_LEASE_MS);
    expect(ownerTtl).toBe(lockTtl);
    // The hash held only that waiter: it is gone with its last field.
    expect(await redis.exists(keys.queueOwners)).toBe(0);

    // The claim gives both the waiter's own lease.
    expect((await queueFor(keys, 'waiter'))[0]).toBe(1);
    const [claimedLock, claimedOwner] = await ttls(keys);
    expect(claimedLock).toBeGreaterThan(HANDOFF_LEASE_MS);
    expect(claimedOwner).toBe(claimedLock);
    expect((await ownerRecord(keys))?.token).toBe('waiter');
    await release(keys, 'waiter');
    expect(await redis.exists(keys.lock, keys.queue, keys.owner, keys.queueOwners)).toBe(0);
  });

  it("a handoff to a waiter that queued without a record deletes the previous holder's record", async () => {
    const keys = freshKeys();
    await acquire(keys, 'holder');
    await queueFor(keys, 'quiet', '');
    expect(await redis.exists(keys.queueOwners)).toBe(0);
    await release(keys, 'holder');
    expect(await redis.exists(keys.owner)).toBe(0);
  });

  it('waiters that give up or whose wait ran out leave the queue hash with their queue entry', async () => {
    const keys = freshKeys();
    await acquire(keys, 'holder');
    await acquire(keys, 'short', { queueWaitMs: 50 });
    await queueFor(keys, 'quitter');
    await queueFor(keys, 'patient');
    expect(await redis.hlen(keys.queueOwners)).toBe(3);
    expect(await release(keys, 'quitter')).toBe(false);
    expect(await redis.hexists(keys.queueOwners, 'quitter')).toBe(0);
    await sleep(100);
    await release(keys, 'holder'); // drops "short" (its wait is over), hands to "patient"
    expect((await ownerRecord(keys))?.token).toBe('patient');
    expect(await redis.exists(keys.queueOwners)).toBe(0);
  });

  it("a free lock found with a queued waiter is handed over with the waiter's record", async () => {
    const keys = freshKeys();
    await acquire(keys, 'holder', { leaseMs: 100 });
    await queueFor(keys, 'waiter');
    await sleep(200); // the holder's lease ran out: nobody released
    expect(await acquire(keys, 'spin')).toEqual([0, HANDOFF_LEASE_MS]);
    expect((await ownerRecord(keys))?.token).toBe('waiter');
  });

  it('recordOwner off: acquire, queue, extend, handoff and release write no owner data', async () => {
    const keys = freshKeys();
    await acquire(keys, 'holder', { record: '' });
    await queueFor(keys, 'waiter', '');
    expect(await runExtendScript(redis, keys, { token: 'holder', leaseMs: 20_000, recordOwner: 0 })).toBe(
      true,
    );
    expect(await redis.exists(keys.owner, keys.queueOwners)).toBe(0);
    expect(await release(keys, 'holder', 0)).toBe(true);
    expect((await acquire(keys, 'waiter', { record: '' }))[0]).toBe(1);
    expect(await redis.exists(keys.owner, keys.queueOwners)).toBe(0);
    await release(keys, 'waiter', 0);
    expect(await redis.exists(keys.lock, keys.queue)).toBe(0);
  });
});

describe('owner records with read locks', () => {
  const readAcquire = (keys: ReturnType<typeof redisReadLockKeys>, member: string) =>
    runRwReadAcquireScript(redis, keys, { member, leaseMs: 10_000, queueWaitMs: 0, recordOwner: 1, ...pub });
  const readRelease = (keys: ReturnType<typeof redisReadLockKeys>, member: string) =>
    runRwReadReleaseScript(redis, keys, { member, recordOwner: 1, ...pub });

  it('readers record no owner; the writer the last reader hands the key to shows up with its record', async () => {
    const lockKeys = freshKeys();
    const keys = redisReadLockKeys(lockKeys);
    expect((await readAcquire(keys, 'r:one'))[0]).toBe(1);
    expect(await redis.exists(keys.owner)).toBe(0);
    expect((await queueFor(lockKeys, 'writer'))[0]).toBe(0);
    expect(await readRelease(keys, 'r:one')).toBe(true);
    expect((await ownerRecord(lockKeys))?.token).toBe('writer');
    const [lockTtl, ownerTtl] = await ttls(lockKeys);
    expect(ownerTtl).toBe(lockTtl);
    expect(await redis.exists(keys.queueOwners)).toBe(0);
    await release(lockKeys, 'writer');
    expect(await redis.exists(keys.lock, keys.owner, keys.readers)).toBe(0);
  });
});
