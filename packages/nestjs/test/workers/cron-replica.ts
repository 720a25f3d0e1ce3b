// One replica of a Nest app with a cron job that must run once per tick across replicas.
// Env: REDIS_URL, KEY_PREFIX (also the prefix of the result keys), REPLICA.
import 'reflect-metadata';
import { DistributedLock, LockManager } from '@dlock/core';
import { RedisSpinLockBackend } from '@dlock/redis-spin';
import { Inject, Injectable, Module, type OnModuleInit } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Cron, ScheduleModule } from '@nestjs/schedule';
import { Redis } from 'ioredis';
import { DlockModule } from '../../src/index.js';

const prefix = process.env.KEY_PREFIX!;
const replica = process.env.REPLICA!;
const REDIS = Symbol('redis');

/**
 * Every replica's timer fires within milliseconds of the second boundary, so the nearest second
 * names the tick; a timer that fires up to ~0.8 s late still finds the tick's lock held
 * (holdAtLeastMs) and skips instead of recording the same tick again.
 */
const currentTick = () => String(Math.round(Date.now() / 1000));

@Injectable()
class ReportJob implements OnModuleInit {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(LockManager) private readonly manager: LockManager,
  ) {}

  onModuleInit(): void {
    this.manager.on('skipped', () => {
      void this.redis.hincrby(`${prefix}skips`, currentTick(), 1);
    });
  }

  @Cron('* * * * * *')
  @DistributedLock({ key: 'job:report', onLocked: 'skip', holdAtLeastMs: 800, leaseMs: 5_000 })
  async run(): Promise<void> {
    const tick = currentTick();
    await this.redis.hincrby(`${prefix}runs`, tick, 1);
    await this.redis.rpush(`${prefix}log`, `${tick} ${replica} ${Date.now()}`);
  }
}

@Module({
  providers: [{ provide: REDIS, useFactory: () => new Redis(process.env.REDIS_URL!) }],
  exports: [REDIS],
})
class RedisModule {}

@Module({
  imports: [
    ScheduleModule.forRoot(),
    DlockModule.forRootAsync({
      imports: [RedisModule],
      inject: [REDIS],
      useFactory: (redis: Redis) => ({
        backends: { spin: new RedisSpinLockBackend(redis) },
        keyPrefix: prefix,
        afterClose: async () => {
          await redis.quit();
          console.log('closed');
        },
      }),
    }),
    RedisModule,
  ],
  providers: [ReportJob],
})
class AppModule {}

const app = await NestFactory.create(AppModule, { logger: ['error', 'warn'] });
app.enableShutdownHooks();
await app.listen(0, '127.0.0.1');
console.log(`ready ${replica}`);
