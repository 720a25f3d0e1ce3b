import { DlockModule } from '@dlock/nestjs';
import { RedisPubSubLockBackend } from '@dlock/redis-pubsub';
import { RedisSpinLockBackend } from '@dlock/redis-spin';
import { Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import type { Redis } from 'ioredis';
import { InventoryController } from './inventory/inventory-controller.js';
import { DigestJob } from './jobs/digest-job.js';
import { REDIS_CLIENT, RedisModule } from './redis/redis-module.js';

@Module({
  imports: [
    ScheduleModule.forRoot(),
    DlockModule.forRootAsync({
      imports: [RedisModule],
      inject: [REDIS_CLIENT],
      useFactory: (redis: Redis) => ({
        backends: { spin: new RedisSpinLockBackend(redis), pubsub: new RedisPubSubLockBackend(redis) },
        keyPrefix: process.env.LOCK_KEY_PREFIX ?? 'nest-jobs:',
        afterClose: () => redis.quit(),
      }),
      errorFilter: true,
    }),
  ],
  controllers: [InventoryController],
  providers: [DigestJob],
})
export class AppModule {}
