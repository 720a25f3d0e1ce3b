import { Module } from '@nestjs/common';
import { Redis } from 'ioredis';

/** Injection token of the app's one Redis client. */
export const REDIS_CLIENT = Symbol.for('nest-jobs:redis');

/** The Redis client the locks use; its owner (DlockModule's afterClose) quits it on shutdown. */
@Module({
  providers: [
    {
      provide: REDIS_CLIENT,
      useFactory: () => new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'),
    },
  ],
  exports: [REDIS_CLIENT],
})
export class RedisModule {}
