// The spin backend as the fault scenarios and their worker processes build it.
import type { CreateFaultBackend } from '@dlock/conformance/fault';
import { Redis } from 'ioredis';
import { RedisSpinLockBackend } from '../../src/index.js';

export const createFaultBackend: CreateFaultBackend = async (url, options) => {
  const redis = new Redis(url);
  redis.on('error', () => {}); // the backend reports what matters; keep the test output quiet
  const backend = new RedisSpinLockBackend(redis, {
    keyPrefix: options.keyPrefix,
    ...(options.commandTimeoutMs === undefined ? {} : { commandTimeoutMs: options.commandTimeoutMs }),
  });
  return {
    backend,
    close: async () => {
      await backend.close();
      redis.disconnect();
    },
  };
};
