import { runRedisOwnerRecordSuite } from '@dlock/conformance';
import { RedisPubSubLockBackend } from '../../src/index.js';

runRedisOwnerRecordSuite({
  name: 'redis-pubsub-slow-link',
  queues: true,
  slowLink: true,
  createBackend: (client, options) => new RedisPubSubLockBackend(client, options),
});
