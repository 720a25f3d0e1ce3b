// Redis test support without vitest, so worker processes and scripts can import it too.

export { runClusterCounterWorker } from './cluster-counter-worker.js';
export { REDIS_URL, testPrefix } from './redis-test-names.js';
