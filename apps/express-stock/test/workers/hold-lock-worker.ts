// The "other process" of the lock-page test: takes one lock on the app's Redis (the app's key
// layout, default backend prefix) and holds it, renewed, until SIGTERM, then releases it.
// Args: <redis url> <key> <label>. Prints {"held":true,"pid":...} once it holds the lock.
import { LockManager } from '@dlock/core';
import { RedisPubSubLockBackend } from '@dlock/redis-pubsub';
import { Redis } from 'ioredis';

const [url, key, label] = process.argv.slice(2) as [string, string, string];
const redis = new Redis(url);
const manager = new LockManager({
  backends: { pubsub: new RedisPubSubLockBackend(redis) },
  appName: 'lock-page-holder',
});

await manager
  .withLock(key, { leaseMs: 6_000, label }, async () => {
    process.stdout.write(`${JSON.stringify({ held: true, pid: process.pid })}\n`);
    await new Promise<void>((resolve) => process.once('SIGTERM', resolve));
  })
  .catch((error: unknown) => process.stderr.write(`${String(error)}\n`));
await manager.close();
redis.disconnect();
process.exit(0);
