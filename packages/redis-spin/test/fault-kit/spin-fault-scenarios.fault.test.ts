import { runFaultScenarios } from '@dlock/conformance/fault';
import { REDIS_URL } from '@dlock/conformance/redis';

runFaultScenarios({
  name: 'redis-spin',
  backendModule: new URL('./spin-fault-backend.ts', import.meta.url),
  storeUrl: REDIS_URL,
  commandTimeoutMs: 5_000,
});
