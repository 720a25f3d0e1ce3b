import { runRedisSlowLinkConformance } from '@dlock/conformance';
import { testPrefix } from '@dlock/conformance/redis';
import { RedisPubSubLockBackend } from '../../src/index.js';

const keyPrefix = testPrefix('pubsub-conformance-slow');

runRedisSlowLinkConformance('redis-pubsub', (client) => new RedisPubSubLockBackend(client, { keyPrefix }));
