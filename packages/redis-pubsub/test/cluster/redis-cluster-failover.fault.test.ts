// A master of a private 3-master, 3-replica Redis Cluster is SIGKILLed while a lock on it is held
// and callers wait for it; its replica takes over. Waiters settle by their waitMs (with the lock or
// a typed LockError), the key can be locked again on the promoted replica (handoffs included), and
// fencing tokens keep increasing across the failover, which is what protects the data if the lock
// itself was lost with the master.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { type BackendLock, type LockBackend, LockError } from '@dlock/core';
import { redisLockKeys } from '@dlock/redis-common';
import { RedisSpinLockBackend } from '@dlock/redis-spin';
import { PrivateRedisCluster } from '@dlock/testing/servers';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { RedisPubSubLockBackend } from '../../src/index.js';
import { ClusterReplicas } from './cluster-replicas.js';
import { keyOwnedBy } from './cluster-slots.js';

let cluster: PrivateRedisCluster;
let replicas: ClusterReplicas;
beforeAll(async () => {
  cluster = await PrivateRedisCluster.start(3);
  replicas = await ClusterReplicas.add(cluster);
}, 120_000);
afterAll(async () => {
  await replicas?.stop();
  await cluster?.stop();
});

function request(key: string, waitMs: number, leaseMs = 10_000) {
  return { key, token: randomUUID(), leaseMs, waitMs, signal: new AbortController().signal };
}

/** Try until a lock is acquired, retrying retryable backend errors, for up to `waitMs`. */
async function acquireRetrying(
  backend: LockBackend,
  key: string,
  waitMs: number,
  leaseMs?: number,
): Promise<BackendLock> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      const lock = await backend.acquire(request(key, Math.max(0, deadline - Date.now()), leaseMs));
      if (lock) return lock;
    } catch (error) {
      if (!(LockError.isInstance(error) && 'isRetryable' in error && error.isRetryable)) throw error;
    }
    if (Date.now() >= deadline) throw new Error(`no lock on "${key}" within ${waitMs} ms`);
    await sleep(200);
  }
}

it('a master fails over during contention: no waiter outlives its waitMs, the lock works again, fencing tokens keep increasing', async () => {
  const victim = 1;
  const key = await keyOwnedBy(cluster, victim, 'cluster-failover');
  const commandTimeoutMs = 1_000;
  const backends: LockBackend[] = [
    new RedisPubSubLockBackend(cluster.client(), { commandTimeoutMs }),
    new RedisPubSubLockBackend(cluster.client(), { commandTimeoutMs }),
    new RedisSpinLockBackend(cluster.client(), { commandTimeoutMs }),
    new RedisSpinLockBackend(cluster.client(), { commandTimeoutMs }),
  ];
  const holder = new RedisSpinLockBackend(cluster.client(), { commandTimeoutMs });
  const held = (await holder.acquire(request(key, 0, 3_000)))!;
  expect(held).not.toBeNull();
  // The lock reached the replica or not: both are legal under asynchronous replication.

  const waitMs = 8_000;
  const startedAt = Date.now();
  const fencesSeen: number[] = [];
  const waiters = backends.map((backend) =>
    backend.acquire(request(key, waitMs)).then(
      async (lock) => {
        if (!lock) return 'timed out';
        fencesSeen.push(lock.fencingToken!);
        await lock.release().catch(() => {});
        return 'acquired';
      },
      (error: unknown) => error,
    ),
  );
  await sleep(300);
  await cluster.kill(victim);
  const outcomes = await Promise.all(waiters);
  const settledAfterMs = Date.now() - startedAt;
  // Margin: the attempt in flight at the deadline may wait one command timeout, plus scheduling.
  expect(settledAfterMs).toBeLessThan(waitMs + commandTimeoutMs + 3_000);
  for (const outcome of outcomes) {
    if (typeof outcome !== 'string') expect(LockError.isInstance(outcome), String(outcome)).toBe(true);
  }

  // The replica took over the slots of the dead master: Redis' own failover (node timeout 2 s, then
  // an election), which a loaded CI machine can stretch; a generous bound, not a timing claim.
  const promoted = replicas.replica(victim);
  for (
    let attempt = 0;
    attempt < 300 && ((await promoted.call('ROLE')) as [string])[0] !== 'master';
    attempt++
  ) {
    await sleep(100);
  }
  expect(((await promoted.call('ROLE')) as [string])[0]).toBe('master');

  // The key can be locked again, with a fencing token above every one handed out before.
  // A lease far longer than the rest of the test: the waiter below can only get the lock through
  // the handoff message, never through its fallback timer at the holder's lease.
  const again = await acquireRetrying(holder, key, 15_000, 120_000);
  for (const fence of [held.fencingToken!, ...fencesSeen]) expect(again.fencingToken).toBeGreaterThan(fence);

  // The pub/sub waiters above have settled, but a queue entry whose leave did not get through the
  // failover stays queued until its wait ends. `again` took the free key without looking at the
  // queue (the crash case of the format), so such an entry would be handed the lock first and keep
  // it for a pickup lease. Let those waits run out: then the waiter below is the only one queued.
  const { channel, queue } = redisLockKeys('dlock:', key);
  for (let attempt = 0; attempt < 150; attempt++) {
    const [seconds, micros] = (await promoted.call('TIME')) as [string, string];
    const nowMs = Number(seconds) * 1000 + Number(micros) / 1000;
    if (((await promoted.call('ZCOUNT', queue, `(${nowMs}`, '+inf')) as number) === 0) break;
    await sleep(100);
  }

  // Handoffs on the promoted replica reach a pub/sub waiter through sharded pub/sub (its sleep is
  // 60 s, so only the message can wake it this fast).
  const waiter = new RedisPubSubLockBackend(cluster.client(), { maxSleepMs: 60_000 });
  const waiting = waiter.acquire(request(key, 60_000));
  // Right after a failover ioredis may take a while to map the slot to the promoted node; release
  // only once the waiter's SSUBSCRIBE is in place there.
  let subscribers = 0;
  for (let attempt = 0; attempt < 300 && subscribers !== 1; attempt++) {
    [, subscribers] = (await promoted.call('PUBSUB', 'SHARDNUMSUB', channel)) as [string, number];
    if (subscribers !== 1) await sleep(50);
  }
  expect(subscribers).toBe(1);
  const releasedAt = Date.now();
  await again.release();
  const handedOver = await waiting;
  expect(handedOver).not.toBeNull();
  expect(Date.now() - releasedAt).toBeLessThan(5_000);
  expect(handedOver!.fencingToken).toBeGreaterThan(again.fencingToken!);
  await handedOver!.release();
  await Promise.all([...backends, holder, waiter].map((backend) => backend.close()));
}, 120_000);
