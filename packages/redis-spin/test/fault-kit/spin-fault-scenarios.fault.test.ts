import { fileURLToPath } from 'node:url';
import { runFaultScenarios } from '@dlock/conformance/fault';
import { REDIS_URL } from '@dlock/conformance/redis';

const redis = new URL(REDIS_URL);

runFaultScenarios({
  name: 'redis-spin',
  backendModule: fileURLToPath(new URL('./spin-fault-backend.ts', import.meta.url)),
  store: { url: REDIS_URL, host: redis.hostname, port: Number(redis.port || 6379) },
  commandTimeoutMs: 5_000,
});
