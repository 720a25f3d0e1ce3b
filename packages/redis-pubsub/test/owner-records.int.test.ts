import { runRedisOwnerRecordSuite } from '@dlock/conformance';
import { RedisPubSubLockBackend } from '../src/index.js';

runRedisOwnerRecordSuite({
  name: 'redis-pubsub',
  queues: true,
  createBackend: (client, options) => new RedisPubSubLockBackend(client, options),
});
