import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InvalidLockOptionsError, LockManager, MemoryLockBackend } from '@dlock/core';
import express from 'express';
import supertest from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { createLockDashboard, type LockDashboardOptions } from '../src/index.js';

const managers: LockManager[] = [];
afterEach(async () => {
  await Promise.all(managers.splice(0).map((manager) => manager.close()));
});

function setup(options: Partial<LockDashboardOptions<'memory'>> = {}) {
  const manager = new LockManager({ backends: { memory: new MemoryLockBackend() }, appName: 'dash-test' });
  managers.push(manager);
  const app = express();
  app.use('/admin/locks', createLockDashboard(manager, { guard: 'allow-all', refreshMs: 100, ...options }));
  return { manager, app };
}

/** Hold `key` until the returned function is called. */
async function hold(manager: LockManager, key: string): Promise<() => void> {
  let release!: () => void;
  await new Promise<void>((held) => {
    void manager
      .withLock(key, { label: 'Jobs.run' }, () => {
        held();
        return new Promise<void>((resolve) => {
          release = resolve;
        });
      })
      .catch(() => undefined); // a force-released lock rejects with LockLostError
  });
  return release;
}

describe('createLockDashboard', () => {
  it('refuses to build without a guard', () => {
    const manager = new LockManager({ backends: { memory: new MemoryLockBackend() } });
    managers.push(manager);
    expect(() => createLockDashboard(manager, {} as never)).toThrow(InvalidLockOptionsError);
    expect(() => createLockDashboard(manager, { guard: 'yes' as never })).toThrow(/guard is required/);
  });

  it('answers 403 when the guard says no, for the page, its JSON and its stream', async () => {
    const { app } = setup({ guard: async (request) => request.get('x-admin') === 'yes' });
    for (const path of ['/admin/locks/', '/admin/locks/locks.json', '/admin/locks/events']) {
      await supertest(app).get(path).expect(403);
    }
    await supertest(app)
      .get('/admin/locks/')
      .set('x-admin', 'yes')
      .expect(200)
      .expect(/<title>dlock: held locks/);
  });

  it('serves the held locks of its prefix as JSON, with owners, and is read-only by default', async () => {
    const { app, manager } = setup({ prefix: 'stock:' });
    const releases = await Promise.all([hold(manager, 'stock:1'), hold(manager, 'order:1')]);
    const { body } = await supertest(app).get('/admin/locks/locks.json').expect(200);
    expect(body.locks).toHaveLength(1);
    expect(body.locks[0]).toMatchObject({
      key: 'stock:1',
      held: true,
      owner: { appName: 'dash-test', pid: process.pid, label: 'Jobs.run' },
      fencingToken: 1,
      waiters: 0,
    });
    await supertest(app)
      .post('/admin/locks/release?key=stock:1')
      .set('x-dlock-release', 'stock:1')
      .expect(404);
    for (const release of releases) release();
  });

  it('with allowRelease, force-releases a key only with the confirming header', async () => {
    const { app, manager } = setup({ allowRelease: true });
    const release = await hold(manager, 'stock:2');
    await supertest(app).post('/admin/locks/release?key=stock:2').expect(400);
    const { body } = await supertest(app)
      .post('/admin/locks/release?key=stock:2')
      .set('x-dlock-release', 'stock:2')
      .expect(200);
    expect(body).toMatchObject({ key: 'stock:2', released: true });
    expect((await manager.inspect('stock:2')).held).toBe(false);
    release();
  });

  it('streams snapshots over server-sent events', async () => {
    const { app, manager } = setup();
    const release = await hold(manager, 'job:1');
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const messages = await new Promise<string[]>((resolve, reject) => {
        const request = httpRequest({ host: '127.0.0.1', port, path: '/admin/locks/events' }, (response) => {
          expect(response.headers['content-type']).toMatch(/text\/event-stream/);
          const seen: string[] = [];
          response.setEncoding('utf8').on('data', (chunk: string) => {
            for (const line of chunk.split('\n')) if (line.startsWith('data: ')) seen.push(line.slice(6));
            if (seen.length >= 2) {
              request.destroy();
              resolve(seen);
            }
          });
        });
        request.on('error', reject);
        request.end();
      });
      const first = JSON.parse(messages[0]!) as { locks: { key: string }[] };
      expect(first.locks.map((lock) => lock.key)).toEqual(['job:1']);
    } finally {
      server.close();
      release();
    }
  });
});
