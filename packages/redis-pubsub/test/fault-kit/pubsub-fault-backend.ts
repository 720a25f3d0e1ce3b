// The pub/sub backend as the fault scenarios and their worker processes build it; its subscriber
// (the client's duplicate()) goes through the scenario's own link when it gives one.
import { redisFaultBackend } from '@dlock/conformance/redis';
import { RedisPubSubLockBackend } from '../../src/index.js';

export const createFaultBackend = redisFaultBackend(
  (redis, options) => new RedisPubSubLockBackend(redis, options),
);
