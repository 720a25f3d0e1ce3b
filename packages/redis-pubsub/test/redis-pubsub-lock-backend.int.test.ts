import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { clientFactory, backendRequest as request } from '@dlock/conformance';
import { testPrefix } from '@dlock/conformance/redis';
import { type BackendLock, InvalidLockOptionsError, LockBackendError } from '@dlock/core';
import { LUA_SCRIPTS, redisLockKeys } from '@dlock/redis-common';
import type { Redis } from 'ioredis';
import { describe, expect, it, vi } from 'vitest';
import { RedisPubSubLockBackend } from '../src/index.js';

const newClient = clientFactory();
const keyPrefix = testPrefix('pubsub');
let counter = 0;
const freshKey = () => `key-${++counter}`;

async function connectionIds(admin: Redis, name: string): Promise<string[]> {
  const list = (await admin.client('LIST')) as string;
  return list
    .split('\n')
    .filter((line) => line.includes(` name=${name} `))
    .map((line) => /\bid=(\d+)/.exec(line)![1]!);
}

describe('RedisPubSubLockBackend', () => {
  it('try-once on a held key costs one round trip and opens no subscriber connection', async () => {
    const name = `dlock-try-${randomUUID().slice(0, 8)}`;
    const [holderClient, client, admin] = [newClient(), newClient({ connectionName: name }), newClient()];
    const holder = new RedisPubSubLockBackend(holderClient, { keyPrefix });
    const backend = new RedisPubSubLockBackend(client, { keyPrefix });
    const key = freshKey();
    const held = await holder.acquire(request(key));
    await client.script('LOAD', LUA_SCRIPTS.acquire.source);
    const evalsha = vi.spyOn(client, 'evalsha');
    expect(await backend.acquire(request(key))).toBeNull();
    expect(evalsha).toHaveBeenCalledTimes(1);
    expect(await connectionIds(admin, name)).toHaveLength(1);
    await held!.release();
    await backend.close();
  });

  it('a release wakes the waiter at once, long before the holder lease would end', async () => {
    const [a, b] = [newClient(), newClient()];
    const holder = new RedisPubSubLockBackend(a, { keyPrefix });
    const backend = new RedisPubSubLockBackend(b, { keyPrefix });
    const key = freshKey();
    const held = (await holder.acquire(request(key, { leaseMs: 60_000 })))!;
    const waiting = backend.acquire(request(key, { waitMs: 20_000 }));
    await sleep(150);
    const releasedAt = Date.now();
    await held.release();
    const lock = await waiting;
    expect(lock).not.toBeNull();
    expect(Date.now() - releasedAt).toBeLessThan(1_000);
    await lock!.release();
    await Promise.all([holder.close(), backend.close()]);
  });

  it('does not miss a release between the failed attempt and the subscription (re-check after subscribing)', async () => {
    const [a, b] = [newClient(), newClient()];
    const holder = new RedisPubSubLockBackend(a, { keyPrefix });
    const backend = new RedisPubSubLockBackend(b, { keyPrefix });
    for (let round = 0; round < 15; round++) {
      const key = freshKey();
      const held = (await holder.acquire(request(key, { leaseMs: 60_000 })))!;
      const startedAt = Date.now();
      // Released right after the first attempt failed, while the SUBSCRIBE is on its way: nobody hears the message.
      const lock = await backend.acquire(
        request(key, { waitMs: 5_000, onContended: () => void held.release() }),
      );
      expect(lock).not.toBeNull();
      expect(Date.now() - startedAt).toBeLessThan(2_000);
      await lock!.release();
    }
    await Promise.all([holder.close(), backend.close()]);
  });

  it('subscriptions are reference-counted per key and dropped after a linger once the last local waiter left', async () => {
    const [a, b, admin] = [newClient(), newClient(), newClient()];
    const holder = new RedisPubSubLockBackend(a, { keyPrefix });
    const backend = new RedisPubSubLockBackend(b, { keyPrefix, subscriptionLingerMs: 100 });
    const keys = Array.from({ length: 60 }, freshKey);
    const held = await Promise.all(keys.map((key) => holder.acquire(request(key))));
    // Two waiters on each key, all timing out together.
    const waiting = keys.flatMap((key) => [0, 1].map(() => backend.acquire(request(key, { waitMs: 700 }))));
    await sleep(300);
    expect(backend.subscribedChannelCount).toBe(keys.length);
    const channels = keys.map((key) => redisLockKeys(keyPrefix, key).channel);
    const counts = (await admin.pubsub('NUMSUB', ...channels)) as (string | number)[];
    expect(counts.filter((_, i) => i % 2 === 1).map(Number)).toEqual(keys.map(() => 1));
    expect(await Promise.all(waiting)).toEqual(waiting.map(() => null));
    // Still subscribed during the linger, so a next waiter of this process would not re-subscribe.
    expect(backend.subscribedChannelCount).toBe(keys.length);
    await vi.waitFor(() => expect(backend.subscribedChannelCount).toBe(0));
    await sleep(100);
    const after = (await admin.pubsub('NUMSUB', ...channels)) as (string | number)[];
    expect(after.filter((_, i) => i % 2 === 1).map(Number)).toEqual(keys.map(() => 0));
    await Promise.all(held.map((lock) => lock!.release()));
    await Promise.all([holder.close(), backend.close()]);
  });

  it('wakes one local waiter per release (no herd), in arrival order', async () => {
    const [a, b] = [newClient(), newClient()];
    const holder = new RedisPubSubLockBackend(a, { keyPrefix });
    const backend = new RedisPubSubLockBackend(b, { keyPrefix });
    const key = freshKey();
    const held = (await holder.acquire(request(key)))!;
    const order: number[] = [];
    const waiters = Array.from({ length: 5 }, (_, index) =>
      backend.acquire(request(key, { waitMs: 20_000 })).then((lock) => {
        order.push(index);
        return lock!;
      }),
    );
    await sleep(300);
    const evalsha = vi.spyOn(b, 'evalsha');
    await held.release();
    let lock: BackendLock = await Promise.race(waiters);
    await sleep(200);
    // One release, one woken waiter, one attempt: the other four slept through it.
    expect(evalsha).toHaveBeenCalledTimes(1);
    for (let released = 1; released < 5; released++) {
      await lock.release();
      await vi.waitFor(() => expect(order).toHaveLength(released + 1));
      lock = await waiters[order.at(-1)!]!;
    }
    await lock.release();
    expect(order).toEqual([0, 1, 2, 3, 4]);
    // 5 acquiring attempts + 5 releases; no failed attempts from woken-for-nothing waiters.
    expect(evalsha).toHaveBeenCalledTimes(5 + 5);
    await Promise.all([holder.close(), backend.close()]);
  });

  it('a handoff that beats the reply to the first attempt (channel already subscribed) is not missed', async () => {
    const [a, b] = [newClient(), newClient()];
    const holder = new RedisPubSubLockBackend(a, { keyPrefix });
    // A missed handoff would only be noticed after maxSleepMs: longer than the test may take.
    const backend = new RedisPubSubLockBackend(b, {
      keyPrefix,
      maxSleepMs: 60_000,
      subscriptionLingerMs: 60_000,
    });
    const key = freshKey();
    // A first wait leaves the channel subscribed (linger).
    const first = (await holder.acquire(request(key)))!;
    const warmUp = backend.acquire(request(key, { waitMs: 10_000 }));
    await sleep(100);
    await first.release();
    await (await warmUp)!.release();
    expect(backend.subscribedChannelCount).toBe(1);

    const held = (await holder.acquire(request(key)))!;
    // Hold back the replies of the waiter's command connection: its first attempt reaches Redis and
    // queues it, but the waiter only learns so after the release below has handed it the lock and
    // the message has arrived on the (not paused) subscriber connection.
    const socket = (b as unknown as { stream: import('node:net').Socket }).stream;
    socket.pause();
    const waiting = backend.acquire(request(key, { waitMs: 60_000 }));
    await sleep(100);
    await held.release();
    await sleep(100);
    socket.resume();
    const lock = await waiting;
    expect(lock).not.toBeNull();
    await lock!.release();
    await Promise.all([holder.close(), backend.close()]);
  }, 15_000);

  it('after the subscriber connection is killed, a release missed meanwhile does not strand the waiter', async () => {
    const name = `dlock-resub-${randomUUID().slice(0, 8)}`;
    const [a, b, admin] = [newClient(), newClient({ connectionName: name }), newClient()];
    const holder = new RedisPubSubLockBackend(a, { keyPrefix });
    const backend = new RedisPubSubLockBackend(b, { keyPrefix });
    const key = freshKey();
    const held = (await holder.acquire(request(key, { leaseMs: 60_000 })))!;
    const waiting = backend.acquire(request(key, { waitMs: 20_000 }));
    await sleep(200);
    const ids = await connectionIds(admin, name);
    expect(ids).toHaveLength(2); // the user's client and the backend's one subscriber
    const mainId = String(await b.client('ID'));
    const subscriberId = ids.find((id) => id !== mainId)!;
    await admin.client('KILL', 'ID', subscriberId);
    // Published while the subscriber is away: nobody receives it.
    await held.release();
    const releasedAt = Date.now();
    const lock = await waiting;
    expect(lock).not.toBeNull();
    expect(Date.now() - releasedAt).toBeLessThan(3_000);
    expect(await connectionIds(admin, name)).not.toContain(subscriberId);
    await lock!.release();
    await Promise.all([holder.close(), backend.close()]);
  });

  it('a waiter still gets the lock after CLIENT KILL of its command connection', async () => {
    const [a, b, admin] = [newClient(), newClient(), newClient()];
    const holder = new RedisPubSubLockBackend(a, { keyPrefix });
    const backend = new RedisPubSubLockBackend(b, { keyPrefix });
    const key = freshKey();
    const held = (await holder.acquire(request(key, { leaseMs: 60_000 })))!;
    const waiting = backend.acquire(request(key, { waitMs: 20_000 }));
    await sleep(200);
    await admin.client('KILL', 'ID', String(await b.client('ID')));
    await sleep(100);
    await held.release();
    const lock = await waiting;
    expect(lock).not.toBeNull();
    await lock!.release();
    await Promise.all([holder.close(), backend.close()]);
  });

  it('close() ends waiters and closes the subscriber connection, not the user client', async () => {
    const name = `dlock-close-${randomUUID().slice(0, 8)}`;
    const [a, b, admin] = [newClient(), newClient({ connectionName: name }), newClient()];
    const holder = new RedisPubSubLockBackend(a, { keyPrefix });
    const backend = new RedisPubSubLockBackend(b, { keyPrefix });
    const key = freshKey();
    const held = (await holder.acquire(request(key)))!;
    const waiting = backend.acquire(request(key, { waitMs: 20_000 }));
    await sleep(200);
    expect(await connectionIds(admin, name)).toHaveLength(2);
    await backend.close();
    await expect(waiting).rejects.toBeInstanceOf(LockBackendError);
    await vi.waitFor(async () => expect(await connectionIds(admin, name)).toHaveLength(1));
    expect(await b.ping()).toBe('PONG');
    await expect(backend.acquire(request(key))).rejects.toBeInstanceOf(LockBackendError);
    await held.release();
    await holder.close();
  });
});

describe('RedisPubSubLockBackend bad input (typed errors before any Redis call)', () => {
  it.each([
    ['maxSleepMs', { maxSleepMs: 0 }],
    ['maxSleepMs', { maxSleepMs: Number.NaN }],
    ['fenceRetentionMs', { fenceRetentionMs: -1 }],
    ['keyPrefix', { keyPrefix: '{app}' }],
  ])('rejects a bad %s', (option, options) => {
    const client = newClient({ lazyConnect: true });
    expect(() => new RedisPubSubLockBackend(client, options)).toThrow(InvalidLockOptionsError);
    expect(() => new RedisPubSubLockBackend(client, options)).toThrow(option);
    expect(client.status).toBe('wait');
  });

  it('rejects a non-client, a RESP2 subscriber connection and a closed client', async () => {
    expect(() => new RedisPubSubLockBackend(null as unknown as Redis)).toThrow(InvalidLockOptionsError);
    const subscriber = newClient({ protocol: 2 });
    await subscriber.subscribe(`${keyPrefix}channel`);
    expect(() => new RedisPubSubLockBackend(subscriber)).toThrow(/subscriber mode/);
    const closed = newClient();
    const backend = new RedisPubSubLockBackend(closed, { keyPrefix });
    closed.disconnect();
    await once(closed, 'end');
    expect(() => new RedisPubSubLockBackend(closed)).toThrow(LockBackendError);
    await expect(backend.acquire(request(freshKey()))).rejects.toThrow(/closed/);
  });
});
