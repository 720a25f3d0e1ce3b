import { fileURLToPath } from 'node:url';
import { runFaultScenarios } from '@dlock/conformance/fault';
import { REDIS_URL } from '@dlock/conformance/redis';

const redis = new URL(REDIS_URL);

runFaultScenarios({
  name: 'redis-pubsub',
  backendModule: fileURLToPath(new URL('./pubsub-fault-backend.ts', import.meta.url)),
  store: { url: REDIS_URL, host: redis.hostname, port: Number(redis.port || 6379) },
  commandTimeoutMs: 5_000,
  // The backend's defaults: pickup lease 2000 ms, re-check every handoffLeaseMs / 2.
  handoff: { handoffLeaseMs: 2_000, maxSleepMs: 1_000 },
});
