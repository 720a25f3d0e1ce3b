import { runLockBackendConformance } from '@dlock/conformance';
import { RedisSpinLockBackend } from '../src/index.js';
import { clientFactory, testPrefix } from './support/redis-clients.js';

const newClient = clientFactory();
const keyPrefix = testPrefix('spin-conformance');

runLockBackendConformance({
  name: 'redis-spin',
  // One client per simulated server, as in production.
  createBackend: () => new RedisSpinLockBackend(newClient(), { keyPrefix, minDelayMs: 2, maxDelayMs: 40 }),
});
