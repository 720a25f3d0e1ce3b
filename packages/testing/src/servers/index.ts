// Private store servers for tests. A separate entry point (`@dlock/testing/servers`) because it
// needs ioredis, which the main entry does not.
export { freePort } from './free-port.js';
export type { PrivateMariaDbOptions } from './private-mariadb.js';
export { PrivateMariaDb } from './private-mariadb.js';
export { PrivateRedisCluster } from './private-redis-cluster.js';
export type { PrivateRedisServerOptions } from './private-redis-server.js';
export { PrivateRedisServer } from './private-redis-server.js';
export { PrivateServer } from './private-server.js';
export { ServerProcess } from './server-process.js';
