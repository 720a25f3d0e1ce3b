import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app-module.js';
import { replicaName } from './replica-name.js';

const app = await NestFactory.create(AppModule);
// SIGTERM/SIGINT -> app.close(): cron timers stop, the HTTP server closes, then DlockModule closes
// the lock manager (held locks released at once, not after their lease) and quits Redis.
app.enableShutdownHooks();
await app.listen(Number(process.env.PORT ?? 3000));
new Logger('main').log(`${replicaName} listening on ${await app.getUrl()}`);
