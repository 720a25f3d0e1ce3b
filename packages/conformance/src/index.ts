export { backendRequest } from './backend-request.js';
export type { ConformanceOptions } from './conformance.js';
export { runLockBackendConformance } from './conformance.js';
export { heapUsedAfterGc } from './heap-used.js';
export type { RunningWorker, SpawnWorkerOptions, WorkerResult } from './process-workers.js';
export {
  incrementFileCounter,
  readFileCounter,
  runWorkers,
  startWorker,
} from './process-workers.js';
export { usePrivateRedisCluster } from './redis/private-redis-cluster-fixture.js';
export type { PrivateRedis } from './redis/private-redis-fixture.js';
export { usePrivateRedis } from './redis/private-redis-fixture.js';
export { clientFactory } from './redis/redis-clients.js';
export type { RedisOwnerRecordSuiteOptions } from './redis/redis-owner-records.js';
export { runRedisOwnerRecordSuite } from './redis/redis-owner-records.js';
export { runRedisSlowLinkConformance } from './redis/redis-slow-link-conformance.js';
