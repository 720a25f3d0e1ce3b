import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  LUA_SCRIPTS,
  redisLockKeys,
  runAcquireScript,
  runExtendScript,
  runReleaseScript,
} from '../src/index.js';

// Which commands the scripts run inside Redis, seen with MONITOR (filtered on this test's lock
// key, so other traffic on the shared server does not count). MONITOR shows a command with the
// keys it names: TIME names none and is left out here; the redis-pubsub command-count test counts
// everything, TIME included, with INFO commandstats on a private server.
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `test:commands:${randomUUID().slice(0, 8)}:`;
let redis: Redis;
let counter = 0;
const freshKeys = () => redisLockKeys(prefix, `key-${++counter}`);
type Keys = ReturnType<typeof freshKeys>;
const pub = { handoffLeaseMs: 2_000, publishCommand: 'PUBLISH' } as const;

const acquire = (keys: Keys, token: string, options: { queueWaitMs?: number; record?: boolean } = {}) =>
  runAcquireScript(redis, keys, {
    token,
    leaseMs: 10_000,
    queueWaitMs: options.queueWaitMs ?? 0,
    ownerRecord: options.record === false ? '' : JSON.stringify({ h: 'host-1', p: 42, l: token }),
    queued: 0,
    ...pub,
  });
const release = (keys: Keys, token: string) =>
  runReleaseScript(redis, keys, { token, fenceRetentionMs: 0, ownerRecord: '', ...pub }).then(
    (reply) => reply !== 0,
  );

/** The commands naming `keys.lock` (or its other names) that Redis ran while `run` ran. */
async function commands(keys: Keys, run: () => Promise<unknown>): Promise<string[]> {
  const monitor = await redis.monitor();
  const seen: string[] = [];
  monitor.on('monitor', (_time: string, args: string[]) => {
    if (args.some((arg) => arg.startsWith(keys.lock))) seen.push(args[0]!.toLowerCase());
  });
  await sleep(20);
  await run();
  await sleep(50);
  monitor.disconnect();
  return seen;
}

beforeAll(async () => {
  redis = new Redis(REDIS_URL, { enableOfflineQueue: false, lazyConnect: true });
  await redis.connect();
  // Cached up front: a first call's NOSCRIPT -> EVAL would show up in the counts.
  for (const script of Object.values(LUA_SCRIPTS)) await redis.script('LOAD', script.source);
});
afterAll(async () => {
  const leftovers = await redis.keys(`${prefix}*`);
  if (leftovers.length) await redis.del(...leftovers);
  await redis.quit();
});

describe('commands the mutex scripts run', () => {
  it('a free lock is taken with one SET (owner record included, no queue check) and released with one DEL', async () => {
    const keys = freshKeys();
    expect(await commands(keys, () => acquire(keys, 'owner'))).toEqual(['evalsha', 'set']);
    // A spinner finding it taken: the failed SET NX GET (it does not queue: no PTTL either), and
    // once per holder the SET KEEPTTL raising flag "s", so the release reports it.
    expect(await commands(keys, () => acquire(keys, 'spinner'))).toEqual(['evalsha', 'set', 'set']);
    expect(await commands(keys, () => acquire(keys, 'spinner'))).toEqual(['evalsha', 'set']);
    expect(
      await commands(keys, () => runExtendScript(redis, keys, { token: 'owner', leaseMs: 20_000 })),
    ).toEqual(['evalsha', 'get', 'pexpire']);
    expect(await commands(keys, () => release(keys, 'owner'))).toEqual(['evalsha', 'get', 'del']);
    expect(await commands(keys, () => acquire(keys, 'quiet', { record: false }))).toEqual(['evalsha', 'set']);
    await release(keys, 'quiet');
  });

  it("a queue entry carries the waiter's record; a handoff writes waiter and record in one SET; the claim only prolongs it", async () => {
    const keys = freshKeys();
    await acquire(keys, 'holder');
    expect(await commands(keys, () => acquire(keys, 'waiter', { queueWaitMs: 10_000 }))).toEqual([
      'evalsha',
      'set', // SET NX GET: taken
      'zadd', // "<token>\n<record>": no hash of records to write and expire
      'pexpire', // GT on the new queue fails...
      'pexpire', // ...NX sets it: a new queue, so we are its head
      'set', // flag "q", KEEPTTL
      'pttl', // the head takes over when the holder's lease ends, if it dies
    ]);
    // A second waiter lengthens the queue's expiry with GT (one command) and, not at the head,
    // needs no PTTL.
    expect(await commands(keys, () => acquire(keys, 'second', { queueWaitMs: 20_000 }))).toEqual([
      'evalsha',
      'set',
      'zadd',
      'pexpire',
    ]);
    expect(await commands(keys, () => release(keys, 'holder'))).toEqual([
      'evalsha',
      'get',
      'zpopmin', // the entry brings the record along
      'set',
      'publish',
    ]);
    expect(await commands(keys, () => acquire(keys, 'waiter', { queueWaitMs: 10_000 }))).toEqual([
      'evalsha',
      'set',
      'pexpire',
    ]);
    await release(keys, 'second');
    await release(keys, 'waiter');
  });
});
