import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis, type RedisOptions } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { FaultyLink } from '../src/index.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const redisTarget = (() => {
  const url = new URL(REDIS_URL);
  return { host: url.hostname, port: Number(url.port || 6379) };
})();
const prefix = `test:faulty-link:${randomUUID().slice(0, 8)}:`;

const links: FaultyLink[] = [];
const clients: Redis[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) client.disconnect();
  await Promise.all(links.splice(0).map((link) => link.close()));
});

async function startLink(options: Omit<Parameters<typeof FaultyLink.start>[0], 'target'> = {}) {
  const link = await FaultyLink.start({ target: redisTarget, ...options });
  links.push(link);
  return link;
}

function clientThrough(link: FaultyLink, options: RedisOptions = {}): Redis {
  const client = new Redis(link.url(REDIS_URL), {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    lazyConnect: true,
    ...options,
  });
  client.on('error', () => {});
  clients.push(client);
  return client;
}

async function roundTripMs(client: Redis): Promise<number> {
  const startedAt = performance.now();
  await client.ping();
  return performance.now() - startedAt;
}

describe('FaultyLink in front of the shared Redis', () => {
  it('forwards commands and reports its address and connections', async () => {
    const link = await startLink();
    expect(link.host).toBe('127.0.0.1');
    expect(link.url('redis://127.0.0.1:6379/0')).toBe(`redis://127.0.0.1:${link.port}/0`);
    expect(link.url('mysql://user@db.example:3306/test')).toBe(`mysql://user@127.0.0.1:${link.port}/test`);
    const client = clientThrough(link);
    await client.connect();
    await client.set(`${prefix}plain`, 'value');
    expect(await client.get(`${prefix}plain`)).toBe('value');
    expect(link.connectionCount).toBe(1);
    await client.del(`${prefix}plain`);
  });

  it('adds latency each way (a PING with 20 ms each way takes >= 35 ms), changeable at run time', async () => {
    const link = await startLink({ latency: { upMs: 20, downMs: 20 } });
    const client = clientThrough(link);
    await client.connect();
    const slow = await roundTripMs(client);
    expect(slow).toBeGreaterThanOrEqual(35);
    link.setLatency({});
    const fast = Math.min(await roundTripMs(client), await roundTripMs(client));
    expect(fast).toBeLessThan(slow);
  });

  it('keeps order under jitter: 200 pipelined INCRs return increasing values', async () => {
    const link = await startLink({ latency: { upMs: 5, downMs: 5, jitterMs: 5 } });
    const client = clientThrough(link);
    await client.connect();
    const key = `${prefix}order`;
    const pipeline = client.pipeline();
    for (let index = 0; index < 200; index++) pipeline.incr(key);
    // Separate writes so the link sees (and jitters) many chunks, not one.
    const results = await pipeline.exec();
    const values = results!.map(([error, value]) => {
      expect(error).toBeNull();
      return value as number;
    });
    for (let index = 1; index < values.length; index++) expect(values[index]).toBe(values[index - 1]! + 1);
    const replies = await Promise.all(Array.from({ length: 50 }, () => client.incr(key)));
    for (let index = 1; index < replies.length; index++) expect(replies[index]).toBe(replies[index - 1]! + 1);
    await client.del(key);
  });

  it('pause() holds a reply until resume(), with the socket left open', async () => {
    const link = await startLink();
    const client = clientThrough(link, { commandTimeout: 10_000 });
    await client.connect();
    link.pause();
    let answered = false;
    const reply = client.ping().then((value) => {
      answered = true;
      return value;
    });
    await sleep(300);
    expect(answered).toBe(false);
    expect(client.status).toBe('ready');
    expect(link.connectionCount).toBe(1);
    link.resume();
    expect(await reply).toBe('PONG');
  });

  it('pause() also holds a new connection until resume()', async () => {
    const link = await startLink();
    link.pause();
    const client = clientThrough(link, { commandTimeout: 10_000, enableReadyCheck: false });
    const connected = client.connect();
    const reply = connected.then(() => client.ping());
    await sleep(300);
    expect(link.connectionCount).toBe(1);
    link.resume();
    expect(await reply).toBe('PONG');
  });

  it('reset() makes ioredis see a connection error', async () => {
    const link = await startLink();
    const client = clientThrough(link);
    const errors: Error[] = [];
    client.on('error', (error: Error) => errors.push(error));
    await client.connect();
    const closed = new Promise((resolve) => client.once('close', resolve));
    link.reset();
    await closed;
    expect(errors.map((error) => (error as NodeJS.ErrnoException).code)).toContain('ECONNRESET');
    await sleep(50);
    expect(link.connectionCount).toBe(0);
  });

  it('drop() of bytes loses or corrupts what follows', async () => {
    const link = await startLink();
    const client = clientThrough(link, { commandTimeout: 500 });
    await client.connect();
    const key = `${prefix}drop`;
    await client.set(key, 'abcdef');
    // "$6\r\nabcdef\r\n" minus its first 4 bytes is "abcdef\r\n": a simple string no client asked for.
    link.drop({ direction: 'down', bytes: 4 });
    const outcome = await client.get(key).then(
      (value) => ({ value }),
      (error: Error) => ({ error }),
    );
    expect(outcome).not.toEqual({ value: 'abcdef' });
    const other = clientThrough(link, { commandTimeout: 500 });
    await other.connect();
    link.drop({ direction: 'up', chunks: 1 });
    await expect(other.get(key).catch((error: Error) => error.message)).resolves.not.toBe('abcdef');
    const clean = clientThrough(link);
    await clean.connect();
    expect(await clean.get(key)).toBe('abcdef');
    await clean.del(key);
  });

  it('limits bandwidth', async () => {
    const link = await startLink({ bandwidthBytesPerSecond: 20_000 });
    const client = clientThrough(link, { commandTimeout: 10_000 });
    await client.connect();
    const key = `${prefix}bandwidth`;
    const startedAt = performance.now();
    await client.set(key, 'x'.repeat(4_000));
    await client.get(key);
    // ~8 KB over 20 KB/s each way: >= 200 ms in theory; allow for chunking.
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(150);
    link.setBandwidth(undefined);
    await client.del(key);
  });

  it('close() destroys connections, stops listening, leaves no handles, and is idempotent', async () => {
    const handlesBefore = activeHandleCount();
    const link = await FaultyLink.start({ target: redisTarget, latency: { upMs: 200, downMs: 200 } });
    const client = clientThrough(link, { commandTimeout: 10_000 });
    await client.connect();
    const reply = client.ping().catch((error: Error) => error);
    await sleep(20);
    link.pause();
    await Promise.all([link.close(), link.close()]);
    expect(link.connectionCount).toBe(0);
    expect(await reply).toBeInstanceOf(Error);
    client.disconnect();
    await sleep(50);
    expect(activeHandleCount()).toBeLessThanOrEqual(handlesBefore);
    const refused = clientThrough(link);
    await expect(refused.connect()).rejects.toThrow();
  });
});

function activeHandleCount(): number {
  // Timers and sockets still open; the test runner's own are in the baseline.
  return process.getActiveResourcesInfo().filter((name) => name !== 'TTYWrap').length;
}
