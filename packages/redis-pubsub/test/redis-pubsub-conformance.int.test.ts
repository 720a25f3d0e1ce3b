import { runLockBackendConformance } from '@dlock/conformance';
import { RedisPubSubLockBackend } from '../src/index.js';
import { clientFactory, testPrefix } from './support/redis-clients.js';

const newClient = clientFactory();
const keyPrefix = testPrefix('pubsub-conformance');

runLockBackendConformance({
  name: 'redis-pubsub',
  createBackend: () => new RedisPubSubLockBackend(newClient(), { keyPrefix }),
});
