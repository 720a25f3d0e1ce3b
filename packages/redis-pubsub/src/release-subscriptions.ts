import type { RedisLockClient } from '@dlock/redis-common';
import type { Cluster, Redis } from 'ioredis';
import { ReleaseWaiter } from './release-waiter.js';

interface ChannelEntry {
  /** Local waiters of this channel, oldest first. */
  readonly waiters: ReleaseWaiter[];
  /** Settles when the server confirmed the SUBSCRIBE. */
  readonly subscribed: Promise<void>;
}

/** A waiter's place on a channel; `leave()` it in a `finally`. */
export interface ChannelMembership {
  readonly waiter: ReleaseWaiter;
  /** Resolves once release messages of the channel reach this process. */
  readonly subscribed: Promise<void>;
  /** Leave the channel; `acquired` tells whether this waiter took the lock. */
  leave(acquired: boolean): void;
}

/**
 * The subscriber side of one pub/sub backend: ONE extra connection (`duplicate()` of the user's
 * client), one channel per waited-for key, reference-counted by local waiters, unsubscribed when the
 * last one leaves, so memory and subscriptions follow the keys waited for right now, not every key
 * ever seen.
 */
export class ReleaseSubscriptions {
  readonly #source: RedisLockClient;
  readonly #channels = new Map<string, ChannelEntry>();
  /**
   * ioredis' own `keyPrefix` option prefixes the KEYS of the release script (channel included)
   * but not SUBSCRIBE arguments, so the subscriber adds it itself.
   */
  readonly #channelPrefix: string;
  #subscriber: RedisLockClient | undefined;
  #connectedOnce = false;
  #closed = false;

  constructor(source: RedisLockClient) {
    this.#source = source;
    this.#channelPrefix = (source.options as { keyPrefix?: string } | undefined)?.keyPrefix ?? '';
  }

  /** Number of channels subscribed right now (for tests and metrics). */
  get channelCount(): number {
    return this.#channels.size;
  }

  /** Join `channel` (subscribing if this is its first local waiter). */
  join(channel: string): ChannelMembership {
    let entry = this.#channels.get(channel);
    if (!entry) {
      const subscribed = this.#connection()
        .subscribe(this.#channelPrefix + channel)
        .then(() => undefined);
      // A waiter that gave up before the reply must not leave a rejected promise behind.
      subscribed.catch(() => {});
      entry = { waiters: [], subscribed };
      this.#channels.set(channel, entry);
    }
    const waiter = new ReleaseWaiter();
    const joined = entry;
    joined.waiters.push(waiter);
    return {
      waiter,
      subscribed: joined.subscribed,
      leave: (acquired) => this.#leave(channel, joined, waiter, acquired),
    };
  }

  /** Close the subscriber connection. */
  close(): void {
    this.#closed = true;
    this.#channels.clear();
    this.#subscriber?.disconnect();
  }

  #leave(channel: string, entry: ChannelEntry, waiter: ReleaseWaiter, acquired: boolean): void {
    const index = entry.waiters.indexOf(waiter);
    if (index === -1) return;
    entry.waiters.splice(index, 1);
    // A waiter that was handed a release and leaves without the lock passes it on, else the next
    // local waiter would sleep until its fallback timer while the lock is free.
    if (!acquired && waiter.hasUnusedWake) entry.waiters[0]?.notify();
    if (entry.waiters.length > 0 || this.#channels.get(channel) !== entry) return;
    this.#channels.delete(channel);
    if (!this.#closed) this.#subscriber?.unsubscribe(this.#channelPrefix + channel).catch(() => {});
  }

  #onMessage(prefixedChannel: string): void {
    const channel = prefixedChannel.slice(this.#channelPrefix.length);
    // One message means one release: wake one local waiter, not all of them (no herd).
    this.#channels.get(channel)?.waiters[0]?.notify();
  }

  #onReady(subscriber: RedisLockClient): void {
    if (!this.#connectedOnce) {
      this.#connectedOnce = true;
      return;
    }
    // Reconnected: releases published while we were away are lost. ioredis re-subscribes right
    // after "ready"; a PING queued behind those SUBSCRIBEs answers once they are in place, and only
    // then do waiters re-try, so a release between the re-try and the re-subscription is not missed.
    subscriber
      .ping()
      .catch(() => {})
      .finally(() => {
        for (const entry of this.#channels.values()) entry.waiters[0]?.notify();
      });
  }

  #connection(): RedisLockClient {
    if (this.#subscriber) return this.#subscriber;
    const source = this.#source;
    const subscriber: RedisLockClient = isCluster(source)
      ? source.duplicate()
      : (source as Redis).duplicate({ enableOfflineQueue: true, autoResubscribe: true, lazyConnect: false });
    subscriber.on('message', (channel: string) => this.#onMessage(channel));
    subscriber.on('ready', () => this.#onReady(subscriber));
    // Without a listener ioredis prints every reconnect error; waiters see failures through their own calls.
    subscriber.on('error', () => {});
    this.#subscriber = subscriber;
    return subscriber;
  }
}

function isCluster(client: RedisLockClient): client is Cluster {
  return (client as { isCluster?: unknown }).isCluster === true;
}
