import type { LockBackend } from '@dlock/core';
import { FaultyLink } from '@dlock/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { runLockBackendConformance } from '../conformance.js';
import { REDIS_URL } from './redis-test-names.js';

/**
 * The conformance suite for a Redis backend, every client through a link that delays each chunk
 * 2 ms ± 1 ms each way: round trips stop being free, so deadline arithmetic that assumed an instant
 * answer shows up. Call it at the top level of a test file.
 *
 * @example
 * runRedisSlowLinkConformance('redis-spin', (client) => new RedisSpinLockBackend(client, { keyPrefix }));
 */
export function runRedisSlowLinkConformance(
  name: string,
  createBackend: (client: Redis) => LockBackend,
  options: { readonly fairWaiting?: boolean } = {},
): void {
  const redis = new URL(REDIS_URL);
  const clients: Redis[] = [];
  let link: FaultyLink;
  beforeAll(async () => {
    link = await FaultyLink.start({
      target: { host: redis.hostname, port: Number(redis.port || 6379) },
      latency: { upMs: 2, downMs: 2, jitterMs: 1 },
    });
  });
  afterAll(async () => {
    for (const client of clients) client.disconnect();
    await link.close();
  });
  runLockBackendConformance({
    name: `${name} through a 2 ms ± 1 ms link`,
    fairWaiting: options.fairWaiting,
    // One client per simulated server, each through the slow link.
    createBackend: () => {
      const client = new Redis(link.url(REDIS_URL));
      client.on('error', () => {});
      clients.push(client);
      return createBackend(client);
    },
  });
}
