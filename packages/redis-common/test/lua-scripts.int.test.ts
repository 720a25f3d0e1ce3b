import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  LUA_SCRIPTS,
  parseRedisLockValue,
  redisLockKeys,
  runAcquireScript,
  runExtendScript,
  runReleaseScript,
} from '../src/index.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `test:common:${randomUUID().slice(0, 8)}:`;
let redis: Redis;
let counter = 0;
const freshKeys = () => redisLockKeys(prefix, `key-${++counter}`);

type Keys = ReturnType<typeof freshKeys>;
const HANDOFF_LEASE_MS = 2_000;
// Through the generated typed calls: the ARGV order lives in the .lua headers only.
// Every caller records its owner (the default); owner-lua-scripts.int.test.ts checks the records.
const acquire = (keys: Keys, token: string, leaseMs = 10_000, queueWaitMs = 0, queued = 0) =>
  runAcquireScript(redis, keys, {
    token,
    leaseMs,
    queueWaitMs,
    handoffLeaseMs: HANDOFF_LEASE_MS,
    publishCommand: 'PUBLISH',
    ownerRecord: JSON.stringify({ l: token }),
    queued,
  });
/** A pub/sub waiter's attempt: queues for `queueWaitMs` if the lock is taken. */
const queueFor = (keys: Keys, token: string, queueWaitMs = 10_000) =>
  acquire(keys, token, 10_000, queueWaitMs);
/** A queued pub/sub waiter's retry (after its first attempt queued it). */
const retryQueued = (keys: Keys, token: string) => acquire(keys, token, 10_000, 10_000, 1);
const extend = (keys: Keys, token: string, leaseMs: number) =>
  runExtendScript(redis, keys, { token, leaseMs });
/** The release script's reply: 0 not ours, 1 released, 2 released after turning a caller away. */
const releaseReply = (keys: Keys, token: string, fenceRetentionMs = 0) =>
  runReleaseScript(redis, keys, {
    token,
    handoffLeaseMs: HANDOFF_LEASE_MS,
    fenceRetentionMs,
    publishCommand: 'PUBLISH',
    ownerRecord: JSON.stringify({ l: token }),
  });
const release = (keys: Keys, token: string, fenceRetentionMs = 0) =>
  releaseReply(keys, token, fenceRetentionMs).then((reply) => reply !== 0);

/** The owner token in the lock key, or null when the lock is free. */
const ownerOf = async (keys: Keys) => parseRedisLockValue(await redis.get(keys.lock))?.owner ?? null;

/** Messages published on the lock's channel while `fn` runs. */
async function channelMessages(keys: Keys, fn: () => Promise<void>): Promise<string[]> {
  const subscriber = redis.duplicate({ enableOfflineQueue: true, lazyConnect: false });
  const messages: string[] = [];
  subscriber.on('message', (_channel, message: string) => messages.push(message));
  await subscriber.subscribe(keys.channel);
  try {
    await fn();
    await sleep(100);
    return messages;
  } finally {
    subscriber.disconnect();
  }
}

beforeAll(async () => {
  redis = new Redis(REDIS_URL, { enableOfflineQueue: false, lazyConnect: true });
  await redis.connect();
  // Start with an empty script cache so the first call of every script takes the NOSCRIPT -> EVAL path.
  await redis.script('FLUSH');
});
afterAll(async () => {
  const leftovers = await redis.keys(`${prefix}*`);
  if (leftovers.length) await redis.del(...leftovers);
  await redis.quit();
});

describe('Lua scripts against real Redis', () => {
  it('falls back to EVAL on NOSCRIPT, which loads the script for the next EVALSHA', async () => {
    await redis.script('FLUSH');
    expect(await redis.script('EXISTS', LUA_SCRIPTS.extend.sha1)).toEqual([0]);
    expect(await extend(freshKeys(), 'nobody', 1000)).toBe(false);
    expect(await redis.script('EXISTS', LUA_SCRIPTS.extend.sha1)).toEqual([1]);
  });

  it('acquire takes a free lock with the token and lease; taken, it reports the PTTL to the head of the queue only', async () => {
    const keys = freshKeys();
    const [status, fence] = await acquire(keys, 'token-a', 5000);
    expect(status).toBe(1);
    expect(fence).toBeGreaterThan(0);
    expect(await ownerOf(keys)).toBe('token-a');
    const ttl = await redis.pttl(keys.lock);
    expect(ttl).toBeGreaterThan(4000);
    expect(ttl).toBeLessThanOrEqual(5000);
    // A caller that does not queue (try-once, spin) has no use for it: no PTTL is run. Every
    // caller finding it held learns the holder's fence (a spinner sees the lock change hands).
    expect(await acquire(keys, 'token-b', 5000)).toEqual([0, -1, fence]);
    // The first waiter, the head of a new queue, takes over if the holder dies: it gets the lease.
    const [taken, remaining] = await queueFor(keys, 'token-c');
    expect(taken).toBe(0);
    expect(remaining).toBeGreaterThan(4000);
    expect(remaining).toBeLessThanOrEqual(5000);
    // Waiters behind it are served by releases: none.
    expect(await queueFor(keys, 'token-d')).toEqual([0, -1, fence]);
    // A retry (after a nap: the head may have left meanwhile) gets it again.
    expect((await retryQueued(keys, 'token-d'))[1]).toBeGreaterThan(4000);
    expect(await ownerOf(keys)).toBe('token-a');
    // Handed to the head: a spinner now reads the new holder's (greater) fence.
    await release(keys, 'token-a');
    const [, , handedFence] = await acquire(keys, 'token-b', 5000);
    expect(handedFence).toBeGreaterThan(fence);
    for (const token of ['token-d', 'token-c']) await release(keys, token);
  });

  it('a release reports a caller that does not queue turned away while the lock was held (flag "s", once per holder)', async () => {
    const keys = freshKeys();
    await acquire(keys, 'alone');
    expect(await releaseReply(keys, 'alone')).toBe(1);
    await acquire(keys, 'holder');
    expect((await acquire(keys, 'spinner'))[0]).toBe(0);
    expect(await redis.get(keys.lock)).toMatch(/^\d+:s:holder\n/);
    expect((await acquire(keys, 'spinner'))[0]).toBe(0);
    expect(await releaseReply(keys, 'holder')).toBe(2);
    // A queued waiter raises "q" over it: its release hands the lock over, as before.
    await acquire(keys, 'holder');
    await acquire(keys, 'spinner');
    await queueFor(keys, 'waiter');
    expect(await redis.get(keys.lock)).toMatch(/^\d+:q:holder\n/);
    expect(await releaseReply(keys, 'holder')).toBe(1);
    expect(await ownerOf(keys)).toBe('waiter');
    await release(keys, 'waiter');
  });

  it('extend with the wrong token returns 0 and leaves the lease alone; with ours it resets it', async () => {
    const keys = freshKeys();
    await acquire(keys, 'owner', 1000);
    expect(await extend(keys, 'intruder', 60_000)).toBe(false);
    expect(await redis.pttl(keys.lock)).toBeLessThanOrEqual(1000);
    expect(await extend(keys, 'owner', 60_000)).toBe(true);
    expect(await redis.pttl(keys.lock)).toBeGreaterThan(50_000);
  });

  it('release with the wrong token returns 0 and deletes nothing; a release with nobody queued publishes nothing', async () => {
    const keys = freshKeys();
    const messages = await channelMessages(keys, async () => {
      await acquire(keys, 'owner');
      expect(await release(keys, 'intruder')).toBe(false);
      expect(await ownerOf(keys)).toBe('owner');
      expect(await release(keys, 'owner')).toBe(true);
      expect(await redis.exists(keys.lock)).toBe(0);
      // Double release: the second one is refused.
      expect(await release(keys, 'owner')).toBe(false);
    });
    expect(messages).toEqual([]);
  });

  it('release hands the lock to the queued waiter with a pickup lease and publishes its token; the waiter claims it', async () => {
    const keys = freshKeys();
    await acquire(keys, 'owner');
    const before = parseRedisLockValue(await redis.get(keys.lock))!.fencingToken;
    expect(await queueFor(keys, 'waiter')).toEqual([0, expect.any(Number), expect.any(Number)]);
    const messages = await channelMessages(keys, async () => {
      expect(await release(keys, 'owner')).toBe(true);
    });
    // "<fence>:<token>": the message alone proves the handoff (the waiter may start on the pickup lease).
    const handedFence = parseRedisLockValue(await redis.get(keys.lock))!.fencingToken;
    expect(messages).toEqual([`${handedFence}:waiter`]);
    expect(handedFence).toBeGreaterThan(before);
    expect(await ownerOf(keys)).toBe('waiter');
    expect(await redis.pttl(keys.lock)).toBeLessThanOrEqual(HANDOFF_LEASE_MS);
    expect(await redis.zcard(keys.queue)).toBe(0);
    const [status, fence] = await queueFor(keys, 'waiter');
    expect(status).toBe(1);
    expect(fence).toBe(handedFence);
    expect(await redis.pttl(keys.lock)).toBeGreaterThan(HANDOFF_LEASE_MS);
  });

  it('waiters are served in arrival order when they wait equally long, and nobody barges past them', async () => {
    const keys = freshKeys();
    await acquire(keys, 'owner');
    for (const waiter of ['w1', 'w2', 'w3']) await queueFor(keys, waiter);
    // A try-once caller (spin) finds the lock taken; once it is free, it still may not jump the queue.
    expect((await acquire(keys, 'spin'))[0]).toBe(0);
    await release(keys, 'owner');
    expect(await ownerOf(keys)).toBe('w1');
    expect((await queueFor(keys, 'w1'))[0]).toBe(1);
    await release(keys, 'w1');
    expect((await acquire(keys, 'spin'))[0]).toBe(0);
    expect(await ownerOf(keys)).toBe('w2');
    await queueFor(keys, 'w2');
    await release(keys, 'w2');
    expect(await ownerOf(keys)).toBe('w3');
  });

  it('a tombstoned (free) lock with a queued waiter is handed to the waiter, not taken by the caller', async () => {
    const keys = freshKeys();
    await acquire(keys, 'owner');
    await queueFor(keys, 'waiter');
    // Make the key a tombstone under the queue, as a lease running out after a retained release would.
    await redis.set(keys.lock, '5:-:', 'PX', 10_000);
    const messages = await channelMessages(keys, async () => {
      expect(await acquire(keys, 'spin')).toEqual([0, HANDOFF_LEASE_MS]);
    });
    expect(messages).toEqual([expect.stringMatching(/^\d+:waiter$/)]);
    expect(await ownerOf(keys)).toBe('waiter');
  });

  it('crash case: once a lease ran out with waiters queued, the first caller takes the lock, and the next release serves the queue', async () => {
    const keys = freshKeys();
    await acquire(keys, 'owner', 100);
    await queueFor(keys, 'waiter');
    await sleep(200); // the owner's lease ran out without a release, so nobody published
    // The fast path does not look at the queue: the caller that finds the key absent takes it.
    expect((await acquire(keys, 'spin'))[0]).toBe(1);
    expect(parseRedisLockValue(await redis.get(keys.lock))?.waitersQueued).toBe(false);
    // The waiter's own timer retries: it stays queued and flags the lock again...
    expect((await retryQueued(keys, 'waiter'))[0]).toBe(0);
    expect(parseRedisLockValue(await redis.get(keys.lock))?.waitersQueued).toBe(true);
    // ...so the next release hands the lock to it, past any later caller.
    const messages = await channelMessages(keys, async () => {
      expect(await release(keys, 'spin')).toBe(true);
    });
    expect(messages).toEqual([expect.stringMatching(/^\d+:waiter$/)]);
    expect(await ownerOf(keys)).toBe('waiter');
    expect((await acquire(keys, 'late'))[0]).toBe(0);
  });

  it('a lease that ran out with waiters queued: their retries take the free lock in queue order and leave no entry behind', async () => {
    const keys = freshKeys();
    await acquire(keys, 'owner', 100);
    await queueFor(keys, 'first');
    await queueFor(keys, 'second');
    await sleep(200); // the lease ran out (a crash, or a release that kept the lock to holdAtLeastMs)
    // The second waiter's timer fires first: the free lock goes to the head, not to it.
    const messages = await channelMessages(keys, async () => {
      expect(await retryQueued(keys, 'second')).toEqual([0, HANDOFF_LEASE_MS]);
    });
    expect(messages).toEqual([expect.stringMatching(/^\d+:first$/)]);
    expect(await ownerOf(keys)).toBe('first');
    expect((await retryQueued(keys, 'first'))[0]).toBe(1);
    // Its release hands the lock to the next waiter, never to an entry of its own.
    expect(await release(keys, 'first')).toBe(true);
    expect(await ownerOf(keys)).toBe('second');
    expect((await retryQueued(keys, 'second'))[0]).toBe(1);
    expect(await redis.zcard(keys.queue)).toBe(0);
    expect(await release(keys, 'second')).toBe(true);
    expect(await redis.exists(keys.lock)).toBe(0);
  });

  it('the queue lives at least as long as its longest wait + 1 s, and a shorter wait never shortens it', async () => {
    const keys = freshKeys();
    await acquire(keys, 'holder');
    await queueFor(keys, 'ten-seconds', 10_000);
    const first = await redis.pttl(keys.queue);
    expect(first).toBeGreaterThanOrEqual(11_000 - 100);
    // Rounded up to a power of two, so that later waiters of an equal wait lengthen it in one command.
    expect(first).toBeLessThanOrEqual(16_384);
    await queueFor(keys, 'three-seconds', 3_000);
    expect(await redis.pttl(keys.queue)).toBeGreaterThan(first - 1_000);
    await queueFor(keys, 'forty-seconds', 40_000);
    expect(await redis.pttl(keys.queue)).toBeGreaterThanOrEqual(41_000 - 100);
    for (const token of ['ten-seconds', 'three-seconds', 'forty-seconds', 'holder'])
      await release(keys, token);
    expect(await redis.exists(keys.lock, keys.queue)).toBe(0);
  });

  it('waiters whose wait is over are skipped; one that gives up leaves the queue', async () => {
    const keys = freshKeys();
    await acquire(keys, 'owner');
    await queueFor(keys, 'short', 50);
    await queueFor(keys, 'quitter', 10_000);
    await queueFor(keys, 'patient', 10_000);
    expect(await release(keys, 'quitter')).toBe(false);
    await sleep(100);
    await release(keys, 'owner');
    expect(await ownerOf(keys)).toBe('patient');
    expect(await redis.zcard(keys.queue)).toBe(0);
  });

  it('a waiter giving up after the lock was handed to it passes the lock on', async () => {
    const keys = freshKeys();
    await acquire(keys, 'owner');
    await queueFor(keys, 'late');
    await queueFor(keys, 'next');
    await release(keys, 'owner');
    expect(await ownerOf(keys)).toBe('late');
    expect(await release(keys, 'late')).toBe(true);
    expect(await ownerOf(keys)).toBe('next');
  });

  it('after the lease expires another token takes the lock; the stale owner can neither release nor extend it', async () => {
    const keys = freshKeys();
    await acquire(keys, 'stale', 100);
    await sleep(250);
    expect((await acquire(keys, 'fresh'))[0]).toBe(1);
    expect(await release(keys, 'stale')).toBe(false);
    expect(await extend(keys, 'stale', 60_000)).toBe(false);
    expect(await ownerOf(keys)).toBe('fresh');
  });

  it('fencing tokens strictly increase across release, handoff, lease expiry, a deleted key and a tombstone', async () => {
    const keys = freshKeys();
    const fences: number[] = [];
    const take = async (token: string, leaseMs = 10_000) => {
      const [status, fence] = await acquire(keys, token, leaseMs);
      expect(status).toBe(1);
      fences.push(fence);
    };
    for (let round = 0; round < 4; round++) {
      await take(`t${round}`);
      await release(keys, `t${round}`);
    }
    // Handed from holder to waiter: the fence travels in the lock value (+1 or the clock).
    await take('holder');
    await queueFor(keys, 'waiter');
    await release(keys, 'holder');
    const [claimed, claimedFence] = await queueFor(keys, 'waiter');
    expect(claimed).toBe(1);
    fences.push(claimedFence);
    await release(keys, 'waiter');
    // The lease runs out without a release: nothing is left, the next token comes from the clock.
    await take('expiring', 30);
    await sleep(80);
    await take('after-expiry');
    await redis.del(keys.lock); // the key deleted under its holder (FLUSHDB, eviction, an operator)
    expect(await release(keys, 'after-expiry')).toBe(false);
    await take('after-delete');
    expect(await release(keys, 'after-delete')).toBe(true);
    // Opt-in retention: the release leaves a tombstone with the last fence, which the next
    // acquisition continues from.
    await take('retained');
    expect(await release(keys, 'retained', 60_000)).toBe(true);
    expect(parseRedisLockValue(await redis.get(keys.lock))).toEqual({
      fencingToken: fences.at(-1),
      waitersQueued: false,
      owner: undefined,
    });
    expect(await redis.pttl(keys.lock)).toBeGreaterThan(50_000);
    await take('after-tombstone');
    for (let i = 1; i < fences.length; i++) expect(fences[i]).toBeGreaterThan(fences[i - 1]!);
    expect(fences.every(Number.isSafeInteger)).toBe(true);
    await release(keys, 'after-tombstone');
    // By default nothing of a released lock stays in Redis.
    expect(await redis.exists(keys.lock, keys.queue)).toBe(0);
  });

  it('a tombstone is a free lock: extend and release refuse it, acquire takes it', async () => {
    const keys = freshKeys();
    await acquire(keys, 'owner');
    await release(keys, 'owner', 60_000);
    expect(await ownerOf(keys)).toBe(null);
    expect(await extend(keys, '', 1000)).toBe(false);
    expect(await release(keys, '')).toBe(false);
    expect((await acquire(keys, 'next'))[0]).toBe(1);
  });

  it('many tokens racing for one key: exactly one wins per round', async () => {
    const keys = freshKeys();
    const replies = await Promise.all(Array.from({ length: 20 }, (_, i) => acquire(keys, `racer-${i}`)));
    expect(replies.filter(([status]) => status === 1)).toHaveLength(1);
  });
});
