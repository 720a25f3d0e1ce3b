import { clientFactory, runLockBackendConformance } from '@dlock/conformance';
import { testPrefix } from '@dlock/conformance/redis';
import { RedisSpinLockBackend } from '../src/index.js';

const newClient = clientFactory();
const keyPrefix = testPrefix('spin-conformance');

runLockBackendConformance({
  name: 'redis-spin',
  // One client per simulated server, as in production.
  createBackend: () => new RedisSpinLockBackend(newClient(), { keyPrefix, minDelayMs: 2, maxDelayMs: 40 }),
  // Spinning waiters never queue: not served in arrival order.
  fairWaiting: false,
});
