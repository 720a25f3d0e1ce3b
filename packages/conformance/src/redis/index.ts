// Redis test support without vitest, so worker processes and scripts can import it too.

export { runClusterCounterWorker } from './cluster-counter-worker.js';
export type { RedisFaultBackendOptions } from './redis-fault-backend.js';
export { redisFaultBackend } from './redis-fault-backend.js';
export { REDIS_URL, testPrefix } from './redis-test-names.js';
