// Pub/sub waiters on a private 3-master Redis Cluster keep getting their handoffs while the cluster
// changes under them: the user's client options vary, the subscriber's connection drops, and the
// key's slot moves to another master (before and while a waiter listens). Every backend here sleeps
// up to 60 s between checks and the holder's lease is 60 s, so a wake-up within a few seconds can
// only come from the handoff message (or the re-check after a re-subscription), never from a timer.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { usePrivateRedisCluster } from '@dlock/conformance';
import type { BackendLock } from '@dlock/core';
import { redisLockKeys } from '@dlock/redis-common';
import { RedisSpinLockBackend } from '@dlock/redis-spin';
import type { Cluster, ClusterOptions } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { RedisPubSubLockBackend } from '../../src/index.js';
import { keyOwnedBy, moveSlot, shardSubscribers } from './cluster-slots.js';

const cluster = usePrivateRedisCluster();

const LONG_MS = 60_000;
/** Far below LONG_MS: a waiter acquiring within this was woken by a message, not a timer. */
const WOKEN_WITHIN_MS = 5_000;

function request(key: string, waitMs: number) {
  return { key, token: randomUUID(), leaseMs: LONG_MS, waitMs, signal: new AbortController().signal };
}

async function untilShardSubscribers(index: number, channel: string, expected: number): Promise<number> {
  let count = -1;
  for (let attempt = 0; attempt < 60; attempt++) {
    count = await shardSubscribers(cluster(), index, channel);
    if (count === expected) break;
    await sleep(50);
  }
  return count;
}

/** Resolves "acquired" (and releases), or "stranded" if the waiter was not woken in time. */
async function outcome(waiting: Promise<BackendLock | null>): Promise<'acquired' | 'stranded' | 'null'> {
  const result = await Promise.race([waiting, sleep(WOKEN_WITHIN_MS).then(() => 'stranded' as const)]);
  if (result === 'stranded') {
    void waiting.then((lock) => lock?.release()).catch(() => {});
    return result;
  }
  if (result === null) return 'null';
  await result.release();
  return 'acquired';
}

interface Scene {
  readonly key: string;
  readonly owner: number;
  /** The release channel as the server names it (with the client's own keyPrefix, if any). */
  readonly channel: string;
  readonly holder: RedisSpinLockBackend;
  readonly waiter: RedisPubSubLockBackend;
  readonly held: BackendLock;
  readonly waiting: Promise<BackendLock | null>;
  close(): Promise<void>;
}

/** A spin holder on a key of master `owner`, and a pub/sub waiter subscribed on that shard. */
async function scene(
  options: { owner?: number; client?: Cluster; clientPrefix?: string } = {},
): Promise<Scene> {
  const owner = options.owner ?? 0;
  const client = options.client ?? cluster().client();
  const key = await keyOwnedBy(cluster(), owner, 'cluster-topology');
  const channel = (options.clientPrefix ?? '') + redisLockKeys('dlock:', key).channel;
  const holder = new RedisSpinLockBackend(client);
  const waiter = new RedisPubSubLockBackend(client, { maxSleepMs: LONG_MS });
  const held = (await holder.acquire(request(key, 0)))!;
  expect(held).not.toBeNull();
  const waiting = waiter.acquire(request(key, 20_000));
  waiting.catch(() => {});
  expect(await untilShardSubscribers(await cluster().ownerOf(channel), channel, 1)).toBe(1);
  return {
    key,
    owner,
    channel,
    holder,
    waiter,
    held,
    waiting,
    close: () => Promise.all([holder.close(), waiter.close()]).then(() => {}),
  };
}

describe.sequential('Redis Cluster: pub/sub waiters are woken through topology changes', () => {
  it.each<[string, ClusterOptions]>([
    ['with its own keyPrefix (SSUBSCRIBE channels are prefixed by ioredis itself)', { keyPrefix: 'app:' }],
    ['created with shardedSubscribers: true', { shardedSubscribers: true }],
    ['created with enableOfflineQueue: false', { enableOfflineQueue: false }],
  ])('a user Cluster %s', async (_, clientOptions) => {
    const client = cluster().client(clientOptions);
    if (client.status !== 'ready') await new Promise((resolve) => client.once('ready', resolve));
    const { held, waiting, close } = await scene({ client, clientPrefix: clientOptions.keyPrefix });
    await held.release();
    expect(await outcome(waiting)).toBe('acquired');
    await close();
  });

  it("the subscriber's connection to the owning shard drops and the release comes before it is back", async () => {
    const { owner, held, waiting, close } = await scene({ owner: 1 });
    // Killed first, released right after: ioredis needs a slot refresh and a new connection
    // before it re-subscribes, so the handoff message is published to nobody.
    const killed = await cluster().node(owner).call('CLIENT', 'KILL', 'TYPE', 'pubsub');
    expect(Number(killed)).toBeGreaterThanOrEqual(1);
    await held.release();
    expect(await outcome(waiting)).toBe('acquired');
    await close();
  });

  it("the key's slot moves to another master while a waiter listens", async () => {
    const { key, owner, channel, held, waiting, close } = await scene({ owner: 2 });
    const target = 0;
    await moveSlot(cluster(), redisLockKeys('dlock:', key).lock, target);
    expect(await cluster().ownerOf(channel)).toBe(target);
    // Redis dropped the subscription on the old owner; ioredis subscribed again on the new one.
    expect(await untilShardSubscribers(owner, channel, 0)).toBe(0);
    expect(await untilShardSubscribers(target, channel, 1)).toBe(1);
    await held.release();
    expect(await outcome(waiting)).toBe('acquired');
    await close();
  });

  it("a waiter subscribes after the key's slot moved, before its subscriber learned the new slot map (MOVED)", async () => {
    // The waiter's subscriber is connected and has a slot map (from a first, quick wait).
    const warm = await scene({ owner: 1 });
    await warm.held.release();
    expect(await outcome(warm.waiting)).toBe('acquired');

    const key = await keyOwnedBy(cluster(), 1, 'cluster-topology-moved');
    const names = redisLockKeys('dlock:', key);
    await moveSlot(cluster(), names.lock, 2);
    const held = (await warm.holder.acquire(request(key, 0)))!;
    expect(held).not.toBeNull();
    const waiting = warm.waiter.acquire(request(key, 20_000));
    waiting.catch(() => {});
    expect(await untilShardSubscribers(2, names.channel, 1)).toBe(1);
    await held.release();
    expect(await outcome(waiting)).toBe('acquired');
    await warm.close();
  });
});
