import type { BackendForceReleaseResult, BackendListRequest, BackendLockState } from '@dlock/core';
import type { Redis } from 'ioredis';
import { runReleaseScript } from './generated/lua-scripts.js';
import { isRedisCluster, type RedisLockClient } from './redis-client.js';
import { parseRedisLockValue, redisLockKeys } from './redis-key-layout.js';
import type { RedisLockFormat } from './redis-lock-options.js';
import { decodeRedisOwner } from './redis-owner-record.js';

/** Keys one `SCAN` step asks for (`COUNT`). */
const SCAN_COUNT = 1_000;
/**
 * At most this many `SCAN` steps per node for one `list()`: a bounded walk (about a million keys
 * per node) even when few keys match, so a listing never turns into a crawl of a huge database.
 */
const MAX_SCAN_STEPS = 1_000;

/** Undo {@link escapeHashTag}: the key as the backend was asked for it. */
function unescapeHashTag(escaped: string): string {
  return escaped.replace(/%(25|7B|7D)/g, (_, code: string) =>
    code === '25' ? '%' : code === '7B' ? '{' : '}',
  );
}

/** Escape the glob characters of `SCAN MATCH` so `text` matches only itself. */
function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, (char) => `\\${char}`);
}

/**
 * The read side of the Redis lock format, shared by both Redis backends: reads the lock key (whose
 * value carries the owner record) and its queue in one `MULTI` (one slot, one round trip), lists lock keys with bounded
 * `SCAN` (never `KEYS`), and force-releases with the release script under the holder's token.
 *
 * @example
 * const inspector = new RedisLockInspector(redis, resolveRedisLockFormat(redis, {}, 'redis-spin'));
 * await inspector.inspect('stock:42');
 */
export class RedisLockInspector {
  readonly #client: RedisLockClient;
  readonly #format: RedisLockFormat;

  constructor(client: RedisLockClient, format: RedisLockFormat) {
    this.#client = client;
    this.#format = format;
  }

  /** What Redis holds for `key` (see `LockBackend.inspect` in `@dlock/core`). */
  async inspect(key: string): Promise<BackendLockState> {
    const keys = redisLockKeys(this.#format.keyPrefix, key);
    const replies = await this.#client.multi().get(keys.lock).pttl(keys.lock).zcard(keys.queue).exec();
    const [value, pttl, queued] = (replies ?? []).map(([error, reply]) => {
      if (error) throw error;
      return reply;
    }) as [string | null, number, number];
    return toState(key, { value, pttl, queued }, Date.now());
  }

  /** Held locks whose key starts with `request.prefix` (see `LockBackend.list` in `@dlock/core`). */
  async list(request: BackendListRequest): Promise<BackendLockState[]> {
    const { keyPrefix } = this.#format;
    const escapedPrefix = redisLockKeys('', request.prefix).lock.slice(1, -1);
    const match = `${escapeGlob(keyPrefix)}{${escapeGlob(escapedPrefix)}*}`;
    const nodes = await this.#masters();
    const found = new Set<string>();
    const states: BackendLockState[] = [];
    for (const node of nodes) {
      let cursor = '0';
      let steps = 0;
      do {
        const [next, batch] = await node.scan(cursor, 'MATCH', match, 'COUNT', SCAN_COUNT, 'TYPE', 'string');
        cursor = next;
        steps += 1;
        const fresh = batch.filter((redisKey) => !found.has(redisKey));
        for (const redisKey of fresh) found.add(redisKey);
        for (const state of await this.#inspectMany(node, fresh)) {
          if (state.held && states.length < request.limit) states.push(state);
        }
      } while (cursor !== '0' && steps < MAX_SCAN_STEPS && states.length < request.limit);
      if (states.length >= request.limit) break;
    }
    return states;
  }

  /**
   * Free `key` whoever holds it: the release script run under the holder's token, so waiters
   * are handed the lock as after a normal release, and the next holder's fence is greater.
   */
  async forceRelease(key: string): Promise<BackendForceReleaseResult> {
    const before = await this.inspect(key);
    const keys = redisLockKeys(this.#format.keyPrefix, key);
    // A few tries: between the read and the script the holder may change (a handoff, a release).
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const holder = parseRedisLockValue(await this.#client.get(keys.lock));
      if (!holder?.owner) return { released: false };
      const { settings } = this.#format;
      const released = await runReleaseScript(this.#client, keys, {
        token: holder.owner,
        handoffLeaseMs: settings.handoffLeaseMs,
        fenceRetentionMs: settings.fenceRetentionMs,
        publishCommand: settings.publishCommand,
        // The holder is not queued: no queue entry to name.
        ownerRecord: '',
      });
      if (released !== 0) {
        return {
          released: true,
          previousOwner: before.fencingToken === holder.fencingToken ? before.owner : undefined,
          previousFencingToken: holder.fencingToken,
        };
      }
    }
    return { released: false };
  }

  /** The nodes to scan: the client itself, or every master of a Cluster (connecting it first). */
  async #masters(): Promise<Redis[]> {
    const client = this.#client;
    if (!isRedisCluster(client)) return [client];
    // A Cluster client knows its nodes only once connected; any command connects it.
    if (client.nodes('master').length === 0) await client.ping();
    return client.nodes('master');
  }

  /** Read `redisKeys` (all on `node`: one Cluster node's keys share its connection) in one pipeline. */
  async #inspectMany(node: Redis, redisKeys: readonly string[]): Promise<BackendLockState[]> {
    if (redisKeys.length === 0) return [];
    const { keyPrefix } = this.#format;
    const pipeline = node.pipeline();
    for (const lockKey of redisKeys) {
      pipeline.get(lockKey).pttl(lockKey).zcard(`${lockKey}:queue`);
    }
    const replies = (await pipeline.exec()) ?? [];
    const now = Date.now();
    return redisKeys.map((lockKey, index) => {
      const at = (offset: number) => {
        const [error, reply] = replies[index * 3 + offset] ?? [null, null];
        if (error) throw error;
        return reply;
      };
      const key = unescapeHashTag(lockKey.slice(keyPrefix.length + 1, -1));
      return toState(
        key,
        {
          value: at(0) as string | null,
          pttl: at(1) as number,
          queued: at(2) as number,
        },
        now,
      );
    });
  }
}

function toState(
  key: string,
  read: { value: string | null; pttl: number; queued: number },
  now: number,
): BackendLockState {
  const parsed = parseRedisLockValue(read.value);
  if (!parsed?.owner) {
    return { key, held: false, fencingToken: parsed?.fencingToken, waiters: read.queued };
  }
  const leaseRemainingMs = read.pttl >= 0 ? read.pttl : undefined;
  const owner = decodeRedisOwner(parsed.ownerRecord);
  return {
    key,
    held: true,
    owner: {
      ...owner,
      leaseEndsAt: leaseRemainingMs === undefined ? undefined : now + leaseRemainingMs,
    },
    leaseRemainingMs,
    fencingToken: parsed.fencingToken,
    waiters: read.queued,
  };
}
