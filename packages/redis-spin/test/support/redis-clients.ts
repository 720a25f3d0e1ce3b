import { randomUUID } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import { afterAll } from 'vitest';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A unique key namespace for one test file, so files can run in parallel. */
export function testPrefix(label: string): string {
  return `test:${label}:${randomUUID().slice(0, 8)}:`;
}

/** New clients of the shared Redis, all disconnected after the file. */
export function clientFactory(): (options?: RedisOptions) => Redis {
  const clients: Redis[] = [];
  afterAll(() => {
    for (const client of clients) client.disconnect();
  });
  return (options = {}) => {
    const client = new Redis(REDIS_URL, options);
    client.on('error', () => {});
    clients.push(client);
    return client;
  };
}
