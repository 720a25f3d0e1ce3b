// A separate process that takes one lock and holds it (renewed) until SIGTERM (then it releases):
// the "other process" the CLI tests look at. Args: <redis|mysql> <url> <key> [label]. Prints
// {"held":true,"fencingToken":...} once it holds the lock, then {"lost":true} if it loses it.
import { LockManager } from '@dlock/core';
import { createLockDataSource, MySqlNamedLockBackend } from '@dlock/mysql';
import { RedisPubSubLockBackend } from '@dlock/redis-pubsub';
import { Redis } from 'ioredis';

const [store, url, key, label] = process.argv.slice(2) as [string, string, string, string | undefined];
const backend =
  store === 'redis'
    ? new RedisPubSubLockBackend(new Redis(url))
    : new MySqlNamedLockBackend(await createLockDataSource({ url, poolSize: 3 }), { maxConnections: 2 });
const manager = new LockManager({ backends: { [store]: backend }, appName: 'cli-test-holder' });
manager.on('lost', () => process.stdout.write(`${JSON.stringify({ lost: true })}\n`));

await manager
  .withLock(key, { leaseMs: 1_500, label }, async (scope) => {
    process.stdout.write(`${JSON.stringify({ held: true, fencingToken: scope.locks[0]?.fencingToken })}\n`);
    await new Promise<void>((resolve) => {
      scope.signal.addEventListener('abort', () => setTimeout(resolve, 200), { once: true });
      process.once('SIGTERM', resolve);
    });
  })
  .catch(() => undefined);
process.exit(0);
