// A Nest app whose service holds a lock (30 s lease) until the lock is taken away, then waits
// for SIGTERM. Env: REDIS_URL, KEY_PREFIX.
import 'reflect-metadata';
import { currentLock, DistributedLock } from '@dlock/core';
import { RedisPubSubLockBackend } from '@dlock/redis-pubsub';
import { RedisSpinLockBackend } from '@dlock/redis-spin';
import { Injectable, Module, type OnApplicationBootstrap } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Redis } from 'ioredis';
import { DlockModule } from '../../src/index.js';

const redis = new Redis(process.env.REDIS_URL!);

@Injectable()
class Migration implements OnApplicationBootstrap {
  onApplicationBootstrap(): void {
    this.run().then(
      () => console.log('section resolved'),
      (error: Error) => console.log(`section rejected ${error.name}`),
    );
  }

  @DistributedLock({ key: 'job:migration', leaseMs: 30_000 })
  async run(): Promise<void> {
    const signal = currentLock('job:migration')!.signal;
    console.log('holding');
    await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
  }
}

@Module({
  imports: [
    DlockModule.forRoot({
      backends: { spin: new RedisSpinLockBackend(redis), pubsub: new RedisPubSubLockBackend(redis) },
      keyPrefix: process.env.KEY_PREFIX!,
      afterClose: () => redis.quit(),
    }),
  ],
  providers: [Migration],
})
class AppModule {}

const app = await NestFactory.create(AppModule, { logger: ['error', 'warn'] });
app.enableShutdownHooks();
await app.listen(0, '127.0.0.1');
console.log('ready');
