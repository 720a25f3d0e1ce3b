import { Wakeup } from '@dlock/core';
import { isRedisCluster, type RedisLockClient } from '@dlock/redis-common';
import type { Cluster, Redis } from 'ioredis';
import {
  duplicateShardedSubscriber,
  ssubscribeFollowingSlots,
  sunsubscribeFollowingSlots,
} from './sharded-subscriber.js';

/** One subscribed channel and the local waiters listening on it. */
export interface ChannelEntry {
  /** Local waiters of this channel by owner token: a handoff message names exactly one of them. */
  readonly waiters: Map<string, Wakeup>;
  /** Fencing tokens from handoff messages naming a local waiter, until it takes them. */
  readonly handoffFences: Map<string, number>;
  /** Settles when the server confirmed the SUBSCRIBE. */
  readonly subscribed: Promise<void>;
  confirmed: boolean;
  lingerTimer: NodeJS.Timeout | undefined;
}

/** A waiter's place on a channel; `leave()` it in a `finally`. */
export interface ChannelMembership {
  readonly waiter: Wakeup;
  /** The channel's subscription this waiter joined (compare with {@link ReleaseSubscriptions.confirmedEntry}). */
  readonly entry: ChannelEntry;
  /**
   * The fencing token of a handoff message naming this waiter ("<fence>:<token>"), once: proof that
   * the lock is ours on its pickup lease. `undefined` if none came since the last call.
   */
  takeHandoffFence(): number | undefined;
  leave(): void;
}

/** Default time a channel stays subscribed after its last local waiter left. */
export const DEFAULT_SUBSCRIPTION_LINGER_MS = 1_000;

/**
 * The subscriber side of one pub/sub backend: ONE extra connection (`duplicate()` of the user's
 * client), one channel per waited-for key. A channel stays subscribed for a short linger after its
 * last local waiter leaves, so the next caller of this process for the same key (the core queues
 * them one at a time) finds it ready instead of paying SUBSCRIBE, a re-check and UNSUBSCRIBE; after
 * that it is dropped, so subscriptions follow the keys waited for now, not every key ever seen.
 */
export class ReleaseSubscriptions {
  readonly #source: RedisLockClient;
  readonly #lingerMs: number;
  readonly #channels = new Map<string, ChannelEntry>();
  /**
   * ioredis' own `keyPrefix` option prefixes the KEYS of the release script (channel included)
   * but not SUBSCRIBE arguments, so the subscriber adds it itself. SSUBSCRIBE arguments are keys to
   * ioredis, which prefixes them already: on a Cluster only incoming channel names carry it.
   */
  readonly #channelPrefix: string;
  /** Sharded pub/sub on a Cluster: the release script SPUBLISHes to the shard owning the key. */
  readonly #sharded: boolean;
  #subscriber: RedisLockClient | undefined;
  /** Cluster: channels being confirmed again after a re-subscription (one SSUBSCRIBE each at a time). */
  readonly #resubscribing = new Set<ChannelEntry>();
  #connectedOnce = false;
  #closed = false;

  constructor(source: RedisLockClient, lingerMs = DEFAULT_SUBSCRIPTION_LINGER_MS) {
    this.#source = source;
    this.#sharded = isRedisCluster(source);
    this.#lingerMs = lingerMs;
    this.#channelPrefix = (source.options as { keyPrefix?: string } | undefined)?.keyPrefix ?? '';
  }

  /** Number of channels subscribed right now (for tests and metrics). */
  get channelCount(): number {
    return this.#channels.size;
  }

  /** The channel's subscription if the server has confirmed it, else `undefined`. */
  confirmedEntry(channel: string): ChannelEntry | undefined {
    const entry = this.#channels.get(channel);
    return entry?.confirmed ? entry : undefined;
  }

  /** Join `channel` as the waiter for `token` (subscribing if the channel is not subscribed). */
  join(channel: string, token: string): ChannelMembership {
    let entry = this.#channels.get(channel);
    if (!entry) {
      const connection = this.#connection();
      const subscribed = (
        this.#sharded
          ? ssubscribeFollowingSlots(connection as Cluster, channel)
          : connection.subscribe(this.#channelPrefix + channel)
      ).then(
        () => {
          created.confirmed = true;
          this.#dropIfUnwanted(channel);
        },
        (error: unknown) => {
          // Forget a failed subscription at once, so the next waiter of this key subscribes
          // again instead of inheriting the rejection until the channel lingers out.
          if (this.#channels.get(channel) === created) {
            clearTimeout(created.lingerTimer);
            this.#channels.delete(channel);
            // The client may still count the channel as subscribed (and re-subscribe it after a
            // reconnect): take it back, or it outlives every waiter.
            this.#unsubscribe(channel);
          }
          throw error;
        },
      );
      // A waiter that gave up before the reply must not leave a rejected promise behind.
      subscribed.catch(() => {});
      const created: ChannelEntry = {
        waiters: new Map(),
        handoffFences: new Map(),
        subscribed,
        confirmed: false,
        lingerTimer: undefined,
      };
      entry = created;
      this.#channels.set(channel, entry);
    }
    clearTimeout(entry.lingerTimer);
    entry.lingerTimer = undefined;
    const waiter = new Wakeup();
    const joined = entry;
    joined.waiters.set(token, waiter);
    return {
      waiter,
      entry: joined,
      takeHandoffFence: () => {
        const fence = joined.handoffFences.get(token);
        if (fence !== undefined) joined.handoffFences.delete(token);
        return fence;
      },
      leave: () => this.#leave(channel, joined, token),
    };
  }

  /** Close the subscriber connection. */
  close(): void {
    this.#closed = true;
    for (const entry of this.#channels.values()) clearTimeout(entry.lingerTimer);
    this.#channels.clear();
    this.#subscriber?.disconnect();
  }

  #leave(channel: string, entry: ChannelEntry, token: string): void {
    entry.waiters.delete(token);
    entry.handoffFences.delete(token);
    if (entry.waiters.size > 0 || this.#channels.get(channel) !== entry || this.#closed) return;
    entry.lingerTimer = setTimeout(() => {
      if (entry.waiters.size > 0 || this.#channels.get(channel) !== entry) return;
      this.#channels.delete(channel);
      this.#unsubscribe(channel);
    }, this.#lingerMs);
    entry.lingerTimer.unref();
  }

  /**
   * A subscription confirmed after its channel was dropped (the waiters left while SSUBSCRIBE
   * still rode out a slot move, so the UNSUBSCRIBE went first) would stay for good: take it back,
   * unless a newer entry for the same channel wants it.
   */
  #dropIfUnwanted(channel: string): void {
    if (!this.#channels.has(channel) && !this.#closed) this.#unsubscribe(channel);
  }

  #unsubscribe(channel: string): void {
    const subscriber = this.#subscriber;
    if (!subscriber) return;
    (this.#sharded
      ? sunsubscribeFollowingSlots(
          subscriber as Cluster,
          channel,
          () => this.#closed || this.#channels.has(channel),
        )
      : subscriber.unsubscribe(this.#channelPrefix + channel)
    ).catch(() => {});
  }

  #onMessage(prefixedChannel: string, owner: string): void {
    const channel = prefixedChannel.slice(this.#channelPrefix.length);
    // A handoff names its new owner ("<fence>:<token>"): wake that waiter only (no herd, not even
    // inside one process), and keep the fence, so it can start without a claim round trip.
    const entry = this.#channels.get(channel);
    if (!entry) return;
    const separator = owner.indexOf(':');
    const fence = separator > 0 ? Number(owner.slice(0, separator)) : Number.NaN;
    if (!Number.isSafeInteger(fence)) {
      entry.waiters.get(owner)?.notify();
      return;
    }
    const token = owner.slice(separator + 1);
    const waiter = entry.waiters.get(token);
    if (!waiter) return;
    entry.handoffFences.set(token, fence);
    waiter.notify();
  }

  #onReady(subscriber: RedisLockClient): void {
    if (!this.#connectedOnce) {
      this.#connectedOnce = true;
      return;
    }
    // Reconnected: handoffs published while we were away are lost. ioredis re-subscribes right
    // after "ready"; a PING queued behind those SUBSCRIBEs answers once they are in place, and only
    // then do waiters re-try (claiming a lock handed to them meanwhile), so nothing is missed.
    subscriber
      .ping()
      .catch(() => {})
      .finally(() => {
        for (const entry of this.#channels.values())
          for (const waiter of entry.waiters.values()) waiter.notify();
      });
  }

  /**
   * Cluster only: ioredis re-made a shard's subscriber (its connection dropped, or slots moved) and
   * re-sent the SSUBSCRIBEs. No "ready" fires for that, and handoffs published in between are lost,
   * so each waiter re-tries once its channel is confirmed again on the owning shard.
   */
  #onResubscribed(subscriber: Cluster): void {
    if (!this.#connectedOnce) return;
    for (const [channel, entry] of this.#channels) {
      if (entry.waiters.size === 0 || this.#resubscribing.has(entry)) continue;
      this.#resubscribing.add(entry);
      ssubscribeFollowingSlots(subscriber, channel)
        .then(
          () => this.#dropIfUnwanted(channel),
          () => {},
        )
        .finally(() => {
          this.#resubscribing.delete(entry);
          for (const waiter of entry.waiters.values()) waiter.notify();
        });
    }
  }

  #connection(): RedisLockClient {
    if (this.#subscriber) return this.#subscriber;
    const source = this.#source;
    const subscriber: RedisLockClient = isRedisCluster(source)
      ? duplicateShardedSubscriber(source)
      : (source as Redis).duplicate({ enableOfflineQueue: true, autoResubscribe: true, lazyConnect: false });
    const onMessage = (channel: string, message: string) => this.#onMessage(channel, message);
    subscriber.on(this.#sharded ? 'smessage' : 'message', onMessage);
    subscriber.on('ready', () => this.#onReady(subscriber));
    if (isRedisCluster(subscriber)) subscriber.on('subscribersReady', () => this.#onResubscribed(subscriber));
    // Without a listener ioredis prints every reconnect error; waiters see failures through their own calls.
    subscriber.on('error', () => {});
    this.#subscriber = subscriber;
    return subscriber;
  }
}
