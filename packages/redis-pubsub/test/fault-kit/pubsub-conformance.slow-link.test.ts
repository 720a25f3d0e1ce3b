import { runLockBackendConformance } from '@dlock/conformance';
import { REDIS_URL, testPrefix } from '@dlock/conformance/redis';
import { FaultyLink } from '@dlock/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { RedisPubSubLockBackend } from '../../src/index.js';

const keyPrefix = testPrefix('pubsub-conformance-slow');
const redis = new URL(REDIS_URL);
const clients: Redis[] = [];
let link: FaultyLink;

// Every chunk each way is delayed 2 ms ± 1 ms: round trips stop being free, so deadline arithmetic
// that assumed an instant answer shows up.
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
  name: 'redis-pubsub through a 2 ms ± 1 ms link',
  // One client per simulated server, each through the slow link.
  createBackend: () => {
    const client = new Redis(link.url(REDIS_URL));
    client.on('error', () => {});
    clients.push(client);
    return new RedisPubSubLockBackend(client, { keyPrefix });
  },
});
