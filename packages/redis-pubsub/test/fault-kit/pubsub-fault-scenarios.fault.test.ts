import { runFaultScenarios } from '@dlock/conformance/fault';
import { REDIS_URL } from '@dlock/conformance/redis';

runFaultScenarios({
  name: 'redis-pubsub',
  backendModule: new URL('./pubsub-fault-backend.ts', import.meta.url),
  storeUrl: REDIS_URL,
  commandTimeoutMs: 5_000,
  // The backend's defaults: pickup lease 2000 ms, re-check every handoffLeaseMs / 2.
  handoff: { handoffLeaseMs: 2_000, maxSleepMs: 1_000 },
});
