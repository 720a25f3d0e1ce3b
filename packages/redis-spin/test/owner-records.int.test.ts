import { runRedisOwnerRecordSuite } from '@dlock/conformance';
import { RedisSpinLockBackend } from '../src/index.js';

runRedisOwnerRecordSuite({
  name: 'redis-spin',
  queues: false,
  createBackend: (client, options) => new RedisSpinLockBackend(client, { ...options, maxDelayMs: 40 }),
});
