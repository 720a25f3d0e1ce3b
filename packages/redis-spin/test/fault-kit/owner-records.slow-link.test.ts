import { runRedisOwnerRecordSuite } from '@dlock/conformance';
import { RedisSpinLockBackend } from '../../src/index.js';

runRedisOwnerRecordSuite({
  name: 'redis-spin-slow-link',
  queues: false,
  slowLink: true,
  createBackend: (client, options) => new RedisSpinLockBackend(client, { ...options, maxDelayMs: 40 }),
});
