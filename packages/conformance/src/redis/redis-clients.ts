import { Redis, type RedisOptions } from 'ioredis';
import { afterAll } from 'vitest';
import { REDIS_URL } from './redis-test-names.js';

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
