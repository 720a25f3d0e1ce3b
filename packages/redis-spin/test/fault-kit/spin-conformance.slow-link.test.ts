import { runRedisSlowLinkConformance } from '@dlock/conformance';
import { testPrefix } from '@dlock/conformance/redis';
import { RedisSpinLockBackend } from '../../src/index.js';

const keyPrefix = testPrefix('spin-conformance-slow');

runRedisSlowLinkConformance(
  'redis-spin',
  (client) => new RedisSpinLockBackend(client, { keyPrefix, minDelayMs: 2, maxDelayMs: 40 }),
  // Spinning waiters never queue: not served in arrival order.
  { fairWaiting: false },
);
