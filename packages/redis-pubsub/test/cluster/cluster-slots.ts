// Test helpers for a PrivateRedisCluster: find keys by owning master, move a slot between masters.
import { randomUUID } from 'node:crypto';
import { redisLockKeys } from '@dlock/redis-common';
import type { PrivateRedisCluster } from '@dlock/testing/servers';

/** A fresh lock key (default prefix "dlock:") whose slot lives on master `index`. */
export async function keyOwnedBy(
  cluster: PrivateRedisCluster,
  index: number,
  label: string,
): Promise<string> {
  for (;;) {
    const key = `test:${label}:${randomUUID()}`;
    if ((await cluster.ownerOf(redisLockKeys('dlock:', key).lock)) === index) return key;
  }
}

/**
 * Move the slot of `redisKey` to master `to` the way `redis-cli --cluster reshard` does: mark it
 * importing/migrating, MIGRATE its keys, then assign it on every node. The old owner drops the
 * slot's sharded subscriptions with an unsolicited SUNSUBSCRIBE, as in production resharding.
 */
export async function moveSlot(cluster: PrivateRedisCluster, redisKey: string, to: number): Promise<void> {
  const from = await cluster.ownerOf(redisKey);
  if (from === to) return;
  const nodes = Array.from({ length: cluster.size }, (_, index) => cluster.node(index));
  const ids = (await Promise.all(nodes.map((node) => node.cluster('MYID')))) as string[];
  const slot = (await nodes[from]!.cluster('KEYSLOT', redisKey)) as number;
  const [host, port] = cluster.startupNodes.split(',')[to]!.split(':') as [string, string];
  await nodes[to]!.cluster('SETSLOT', slot, 'IMPORTING', ids[from]!);
  await nodes[from]!.cluster('SETSLOT', slot, 'MIGRATING', ids[to]!);
  for (;;) {
    const keys = (await nodes[from]!.cluster('GETKEYSINSLOT', slot, 100)) as string[];
    if (keys.length === 0) break;
    await nodes[from]!.call('MIGRATE', host, port, '', 0, 5_000, 'KEYS', ...keys);
  }
  const order = [to, from, ...nodes.keys()].filter((index, at, all) => all.indexOf(index) === at);
  for (const index of order) await nodes[index]!.cluster('SETSLOT', slot, 'NODE', ids[to]!);
}

/** Subscribers of `channel` on master `index` (`PUBSUB SHARDNUMSUB`). */
export async function shardSubscribers(
  cluster: PrivateRedisCluster,
  index: number,
  channel: string,
): Promise<number> {
  const [, count] = (await cluster.node(index).call('PUBSUB', 'SHARDNUMSUB', channel)) as [string, number];
  return count;
}
