import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runRwReadAcquireScript, runRwReadReleaseScript } from '../src/generated/lua-scripts.js';
import {
  parseRedisLockValue,
  redisLockKeys,
  redisReadLockKeys,
  runAcquireScript,
  runExtendScript,
  runReleaseScript,
} from '../src/index.js';

// The owner record the scripts keep in the lock value, after the holder's token: written by the
// SET that takes the lock (so it has the lock's expiry and goes with it), written into the value a
// handoff gives the waiter it names, kept when the value is rewritten to flag waiters, and not
// written at all for a caller that records nothing. No "<lock>:owner" key is ever written.
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
    queued: 0,
    ...pub,
  });
const queueFor = (keys: Keys, token: string, record = recordOf(token)) =>
  acquire(keys, token, { queueWaitMs: 10_000, record });
const release = (keys: Keys, token: string, fenceRetentionMs = 0, record = recordOf(token)) =>
  runReleaseScript(redis, keys, { token, fenceRetentionMs, ownerRecord: record, ...pub }).then(
    (reply) => reply !== 0,
  );

/** The record in the lock value: token, acquired-at and JSON record, or null when it has none. */
async function ownerRecord(keys: Keys) {
  const value = parseRedisLockValue(await redis.get(keys.lock));
  if (value?.ownerRecord === undefined) return null;
  const [acquiredAt, json] = value.ownerRecord.split('\n');
  return {
    token: value.owner,
    acquiredAt: Number(acquiredAt),
    record: JSON.parse(json!) as Record<string, unknown>,
  };
}

/** The retired owner key of a lock: no script writes it any more. */
const ownerKey = (keys: Keys) => `${keys.lock}:owner`;
/** The retired hash of queued waiters' records: they ride in the queue entries now. */
const queueOwnersKey = (keys: Keys) => `${keys.lock}:queue:owners`;

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
  it('acquire writes "<fence>:-:<token>\\n<server ms>\\n<JSON>" in one key; extend keeps the record; release deletes it', async () => {
    const keys = freshKeys();
    const [seconds] = await redis.time();
    expect((await acquire(keys, 'holder', { leaseMs: 5_000 }))[0]).toBe(1);
    const owner = await ownerRecord(keys);
    expect(owner).toMatchObject({ token: 'holder', record: { h: 'host-1', p: 42, a: 'app', l: 'holder' } });
    expect(Math.abs(owner!.acquiredAt - Number(seconds) * 1000)).toBeLessThan(5_000);
    expect(await redis.get(keys.lock)).toMatch(/^\d+:-:holder\n\d+\n\{.*\}$/);
    expect(await redis.exists(ownerKey(keys))).toBe(0);

    expect(await runExtendScript(redis, keys, { token: 'holder', leaseMs: 60_000 })).toBe(true);
    expect(await redis.pttl(keys.lock)).toBeGreaterThan(50_000);
    expect(await ownerRecord(keys)).toEqual(owner);
    // Someone else's extend touches nothing.
    expect(await runExtendScript(redis, keys, { token: 'intruder', leaseMs: 1 })).toBe(false);
    expect(await redis.pttl(keys.lock)).toBeGreaterThan(50_000);
    // A record never makes a token: nobody releases with "holder\n..." or a prefix of it.
    expect(await release(keys, `holder\n${owner!.acquiredAt}`)).toBe(false);

    expect(await release(keys, 'holder')).toBe(true);
    expect(await redis.exists(keys.lock)).toBe(0);
  });

  it("a waiter flagging the held lock keeps the holder's record in the rewritten value", async () => {
    const keys = freshKeys();
    await acquire(keys, 'holder');
    const before = await ownerRecord(keys);
    expect((await queueFor(keys, 'waiter'))[0]).toBe(0);
    expect(parseRedisLockValue(await redis.get(keys.lock))?.waitersQueued).toBe(true);
    expect(await ownerRecord(keys)).toEqual(before);
    await release(keys, 'waiter');
    await release(keys, 'holder');
  });

  it('a release that keeps a tombstone keeps no owner record', async () => {
    const keys = freshKeys();
    await acquire(keys, 'holder');
    expect(await release(keys, 'holder', 60_000)).toBe(true);
    expect(await redis.get(keys.lock)).toMatch(/^\d+:-:$/);
  });

  it('a lock whose lease ran out, taken by another, shows the new owner (the old record expired with it)', async () => {
    const keys = freshKeys();
    await acquire(keys, 'stale', { leaseMs: 100 });
    await sleep(250);
    expect(await redis.exists(keys.lock)).toBe(0);
    expect((await acquire(keys, 'fresh'))[0]).toBe(1);
    expect((await ownerRecord(keys))?.token).toBe('fresh');
  });

  it("a queued waiter's record rides in its queue entry, and the handoff writes it into the lock value on the pickup lease", async () => {
    const keys = freshKeys();
    await acquire(keys, 'holder');
    expect((await queueFor(keys, 'waiter'))[0]).toBe(0);
    expect(await redis.zrange(keys.queue, '0', '-1')).toEqual([`waiter\n${recordOf('waiter')}`]);
    // A retry of the same token finds its entry: still one.
    expect((await queueFor(keys, 'waiter'))[0]).toBe(0);
    expect(await redis.zcard(keys.queue)).toBe(1);

    expect(await release(keys, 'holder')).toBe(true);
    expect(await ownerRecord(keys)).toMatchObject({ token: 'waiter', record: { l: 'waiter' } });
    expect(await redis.pttl(keys.lock)).toBeLessThanOrEqual(HANDOFF_LEASE_MS);
    expect(await redis.exists(keys.queue)).toBe(0);

    // The claim gives the lock (record included) the waiter's own lease, and keeps the record.
    const handed = await ownerRecord(keys);
    expect((await queueFor(keys, 'waiter'))[0]).toBe(1);
    expect(await redis.pttl(keys.lock)).toBeGreaterThan(HANDOFF_LEASE_MS);
    expect(await ownerRecord(keys)).toEqual(handed);
    await release(keys, 'waiter');
    expect(await redis.exists(keys.lock, keys.queue, ownerKey(keys), queueOwnersKey(keys))).toBe(0);
  });

  it("a handoff from a process that records nothing still writes the waiter's record (it rides in the queue entry)", async () => {
    const keys = freshKeys();
    await acquire(keys, 'holder', { record: '' });
    await queueFor(keys, 'waiter');
    expect(await release(keys, 'holder', 0, '')).toBe(true);
    expect(await ownerRecord(keys)).toMatchObject({ token: 'waiter', record: { l: 'waiter' } });
  });

  it('a waiter handed the bare token (queued by an older script) writes its record with the claim', async () => {
    const keys = freshKeys();
    await acquire(keys, 'holder');
    await queueFor(keys, 'waiter', '');
    expect(await release(keys, 'holder')).toBe(true);
    expect(await ownerRecord(keys)).toBeNull();
    expect((await queueFor(keys, 'waiter'))[0]).toBe(1);
    expect(await ownerRecord(keys)).toMatchObject({ token: 'waiter', record: { l: 'waiter' } });
    expect(await redis.pttl(keys.lock)).toBeGreaterThan(HANDOFF_LEASE_MS);
    await release(keys, 'waiter');
  });

  it("a bare queue entry (recordOwner off, or an older script) is handed the bare token, never the previous holder's record", async () => {
    const keys = freshKeys();
    await acquire(keys, 'holder');
    await queueFor(keys, 'quiet', '');
    expect(await redis.zrange(keys.queue, '0', '-1')).toEqual(['quiet']);
    await release(keys, 'holder');
    // An older extend script (the claim) matches the whole rest of the value: it must be bare.
    expect(await redis.get(keys.lock)).toMatch(/^\d+:q:quiet$/);
  });

  it('a waiter that gives up takes its entry (record included) out of the queue; entries whose wait ran out are dropped', async () => {
    const keys = freshKeys();
    await acquire(keys, 'holder');
    await acquire(keys, 'short', { queueWaitMs: 50 });
    await queueFor(keys, 'quitter');
    await queueFor(keys, 'quiet-quitter', '');
    await queueFor(keys, 'patient');
    expect(await redis.zcard(keys.queue)).toBe(4);
    expect(await release(keys, 'quitter')).toBe(false);
    expect(await release(keys, 'quiet-quitter', 0, '')).toBe(false);
    expect(await redis.zcard(keys.queue)).toBe(2);
    await sleep(100);
    await release(keys, 'holder'); // drops "short" (its wait is over), hands to "patient"
    expect((await ownerRecord(keys))?.token).toBe('patient');
    expect(await redis.exists(keys.queue)).toBe(0);
  });

  it("a tombstone found with a queued waiter is handed over with the waiter's record", async () => {
    const keys = freshKeys();
    await acquire(keys, 'holder');
    await queueFor(keys, 'waiter');
    await redis.set(keys.lock, '5:-:', 'PX', 10_000); // free, the last fence kept
    expect(await acquire(keys, 'spin')).toEqual([0, HANDOFF_LEASE_MS]);
    expect(await ownerRecord(keys)).toMatchObject({ token: 'waiter', record: { l: 'waiter' } });
  });

  it('recordOwner off: acquire, queue, extend, handoff and release write no owner data', async () => {
    const keys = freshKeys();
    await acquire(keys, 'holder', { record: '' });
    await queueFor(keys, 'waiter', '');
    expect(await runExtendScript(redis, keys, { token: 'holder', leaseMs: 20_000 })).toBe(true);
    expect(await redis.get(keys.lock)).toMatch(/^\d+:q:holder$/);
    expect(await redis.zrange(keys.queue, '0', '-1')).toEqual(['waiter']);
    expect(await release(keys, 'holder', 0, '')).toBe(true);
    expect((await acquire(keys, 'waiter', { record: '' }))[0]).toBe(1);
    expect(await redis.get(keys.lock)).toMatch(/^\d+:q:waiter$/);
    expect(await redis.exists(ownerKey(keys), queueOwnersKey(keys))).toBe(0);
    await release(keys, 'waiter', 0, '');
    expect(await redis.exists(keys.lock, keys.queue)).toBe(0);
  });
});

describe('owner records with read locks', () => {
  const readAcquire = (keys: ReturnType<typeof redisReadLockKeys>, member: string) =>
    runRwReadAcquireScript(redis, keys, { member, leaseMs: 10_000, queueWaitMs: 0, ...pub });
  const readRelease = (keys: ReturnType<typeof redisReadLockKeys>, member: string) =>
    runRwReadReleaseScript(redis, keys, { member, ...pub });

  it('readers record no owner; the writer the last reader hands the key to shows up with its record', async () => {
    const lockKeys = freshKeys();
    const keys = redisReadLockKeys(lockKeys);
    expect((await readAcquire(keys, 'r:one'))[0]).toBe(1);
    expect(await redis.get(keys.lock)).toMatch(/^\d+:q:\*readers\*$/);
    expect((await queueFor(lockKeys, 'writer'))[0]).toBe(0);
    expect(await readRelease(keys, 'r:one')).toBe(true);
    expect(await ownerRecord(lockKeys)).toMatchObject({ token: 'writer', record: { l: 'writer' } });
    expect(await redis.pttl(keys.lock)).toBeLessThanOrEqual(HANDOFF_LEASE_MS);
    expect(await redis.exists(keys.queue, queueOwnersKey(lockKeys))).toBe(0);
    // A reader queued behind a writer holding the key flags it and keeps the writer's record.
    const queuedRead = await runRwReadAcquireScript(redis, keys, {
      member: 'r:two',
      leaseMs: 10_000,
      queueWaitMs: 10_000,
      ...pub,
    });
    expect(queuedRead[0]).toBe(0);
    expect(parseRedisLockValue(await redis.get(keys.lock))?.waitersQueued).toBe(true);
    expect((await ownerRecord(lockKeys))?.token).toBe('writer');
    await release(lockKeys, 'writer');
    expect(await redis.exists(ownerKey(lockKeys), keys.readers)).toBe(0);
  });
});
