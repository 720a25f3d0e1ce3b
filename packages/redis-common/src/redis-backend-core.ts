import { AbortLinks, type BackendAcquireRequest, createClosingController } from '@dlock/core';
import { assertRedisClient, type RedisLockClient } from './redis-client.js';
import { RedisLockInspector } from './redis-lock-inspection.js';
import {
  beginRedisAcquire,
  type RedisAcquireCall,
  type RedisBackendContext,
  type RedisLockFormat,
  type RedisLockFormatOptions,
  redisBackendClosedError,
  resolveRedisLockFormat,
} from './redis-lock-options.js';

/**
 * What every Redis backend holds whatever way it waits: the checked client, the validated format,
 * the inspector, and the closing signal that stops its waiting callers. A backend keeps one and
 * adds only its own waiting.
 *
 * @example
 * const core = new RedisBackendCore(redis, options, 'redis-spin');
 * const call = core.beginAcquire(request);
 */
export class RedisBackendCore {
  /** The lock format, validated once for this backend. */
  readonly format: RedisLockFormat;
  /** `inspect`, `list` and `forceRelease` of the backend. */
  readonly inspector: RedisLockInspector;
  readonly #closing = createClosingController();
  readonly #context: RedisBackendContext;

  /**
   * @throws InvalidLockOptionsError when `client` is not an ioredis client or an option is invalid.
   */
  constructor(client: RedisLockClient, options: RedisLockFormatOptions, backend: string) {
    assertRedisClient(client, backend);
    this.format = resolveRedisLockFormat(client, options, backend);
    this.inspector = new RedisLockInspector(client, this.format);
    const closing = this.#closing.signal;
    this.#context = { client, format: this.format, name: backend, closing, links: new AbortLinks(closing) };
  }

  /** {@link beginRedisAcquire} for this backend: `dispose()` the call in a `finally`. */
  beginAcquire(request: BackendAcquireRequest): RedisAcquireCall {
    return beginRedisAcquire(this.#context, request);
  }

  /** Make waiting callers reject, and new acquires refuse, with the closed-backend error. */
  close(): void {
    this.#closing.abort(redisBackendClosedError(this.#context.name));
  }
}
