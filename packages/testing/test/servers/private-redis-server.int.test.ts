import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { PrivateRedisServer } from '../../src/servers/index.js';

const clients: Redis[] = [];
let server: PrivateRedisServer | undefined;
afterAll(async () => {
  for (const client of clients) client.disconnect();
  await server?.stop();
});

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('PrivateRedisServer', () => {
  it('starts on a private loopback port, pauses, resumes, restarts empty and stops by PID', async () => {
    server = await PrivateRedisServer.start();
    expect(server.port).not.toBe(6379);
    expect(server.url).toBe(`redis://127.0.0.1:${server.port}`);
    const client = new Redis(server.url, { maxRetriesPerRequest: 1 });
    client.on('error', () => {});
    clients.push(client);
    await client.set('k', 'v');

    server.pause();
    let answered = false;
    const reply = client.get('k').then((value) => {
      answered = true;
      return value;
    });
    await sleep(300);
    expect(answered).toBe(false);
    server.resume();
    expect(await reply).toBe('v');

    await server.kill();
    expect(server.pid).toBeUndefined();
    await server.restart();
    const fresh = new Redis(server.url);
    clients.push(fresh);
    expect(await fresh.get('k')).toBeNull();

    const pid = server.pid!;
    server.pause();
    await server.stop(); // SIGCONT first, so SIGTERM is handled
    expect(isAlive(pid)).toBe(false);
  });
});
