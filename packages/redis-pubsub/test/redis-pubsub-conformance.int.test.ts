import { clientFactory, runLockBackendConformance } from '@dlock/conformance';
import { testPrefix } from '@dlock/conformance/redis';
import { RedisPubSubLockBackend } from '../src/index.js';

const newClient = clientFactory();
const keyPrefix = testPrefix('pubsub-conformance');

runLockBackendConformance({
  name: 'redis-pubsub',
  createBackend: () => new RedisPubSubLockBackend(newClient(), { keyPrefix }),
});
