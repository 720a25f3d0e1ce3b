// The spin backend as the fault scenarios and their worker processes build it.
import { redisFaultBackend } from '@dlock/conformance/redis';
import { RedisSpinLockBackend } from '../../src/index.js';

export const createFaultBackend = redisFaultBackend(
  (redis, options) => new RedisSpinLockBackend(redis, options),
);
