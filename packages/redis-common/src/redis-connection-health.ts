import { SharedDeadlines } from '@dlock/core';
import type { RedisLockClient } from './redis-client.js';

/**
 * What a backend knows about its client's connection without sending anything: the last
 * connection error since the client was last ready. Kept per client (not per backend), so two
 * backends sharing one client add one listener between them.
 */
export class RedisConnectionHealth {
  /**
   * Times the replies awaited on this client (commandTimeoutMs, or a caller's deadline): one Node
   * timer for them all instead of one set and cleared per command.
   */
  readonly replyDeadlines = new SharedDeadlines();
  readonly #client: RedisLockClient;
  #lastError: Error | undefined;

  private constructor(client: RedisLockClient) {
    this.#client = client;
    client.on('ready', () => {
      this.#lastError = undefined;
    });
    client.on('error', (error: unknown) => {
      this.#lastError = error instanceof Error ? error : new Error(String(error));
      // ioredis prints an error only while nobody listens for it; our listener must not silence
      // that for a user who relies on the default output.
      if (client.listenerCount('error') === 1) {
        console.error('[ioredis] Unhandled error event:', this.#lastError.stack);
      }
    });
  }

  /** The health of `client`, created (and its listeners attached) on first use. */
  static of(client: RedisLockClient): RedisConnectionHealth {
    let health = registry.get(client);
    if (!health) {
      health = new RedisConnectionHealth(client);
      registry.set(client, health);
    }
    return health;
  }

  /**
   * The connection error that makes the server unreachable right now: set when the client is not
   * ready and failed to connect (or lost its connection) since it last was. `undefined` while
   * connected, or while connecting for the first time without an error yet.
   */
  get unreachableCause(): Error | undefined {
    const { status } = this.#client;
    if (status === 'ready') return undefined;
    if (this.#lastError) return this.#lastError;
    // Lost before we listened (the backend was made while the client was already failing).
    return status === 'reconnecting' || status === 'close'
      ? new Error(`the connection is ${status}`)
      : undefined;
  }

  /** `host:port` (or socket path) of the server, for messages; "the Redis Cluster" for a cluster. */
  get address(): string {
    return addressOf(this.#client);
  }
}

const registry = new WeakMap<RedisLockClient, RedisConnectionHealth>();

function addressOf(client: RedisLockClient): string {
  const options = client.options as { host?: string; port?: number; path?: string } | undefined;
  if ((client as { isCluster?: unknown }).isCluster === true) return 'the Redis Cluster';
  if (options?.path) return options.path;
  return `${options?.host ?? 'localhost'}:${options?.port ?? 6379}`;
}
