import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/http/create-app.js';
import type { AppContext } from '../../src/server/app-context.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';
import { createTestContext, dropTables, testConfig } from '../support/test-stores.js';

// The app runs on a private redis-server that this file stops by PID, and reaches MySQL through a
// TCP proxy this file cuts; the shared Redis and MariaDB are never touched.
let redisServer: ChildProcess;
let mysqlProxy: TcpProxy;
let context: AppContext;
let app: ReturnType<typeof createApp>;
let tablePrefix: string;

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

async function startPrivateRedis(): Promise<{ process: ChildProcess; url: string }> {
  const port = await freePort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  for (let attempt = 0; attempt < 100 && !output.includes('Ready to accept connections'); attempt++)
    await sleep(50);
  if (!output.includes('Ready to accept connections'))
    throw new Error(`private redis-server did not start:\n${output}`);
  return { process: child, url: `redis://127.0.0.1:${port}` };
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

beforeAll(async () => {
  const redis = await startPrivateRedis();
  redisServer = redis.process;
  const mysqlUrl = new URL(testConfig().mysqlUrl);
  mysqlProxy = await startTcpProxy({ host: mysqlUrl.hostname, port: Number(mysqlUrl.port || 3306) });
  mysqlUrl.host = `127.0.0.1:${mysqlProxy.port}`;
  context = await createTestContext({ redisUrl: redis.url, mysqlUrl: mysqlUrl.toString() });
  tablePrefix = context.config.tablePrefix;
  app = createApp(context);
  await request(app).put('/stocks/p-down').send({ quantity: 10 }).expect(200);
  await request(app).put('/race/mysql/stocks/p-down').send({ quantity: 10 }).expect(200);
});

afterAll(async () => {
  if (redisServer) await stopProcess(redisServer);
  await context?.close();
  await mysqlProxy?.cut();
});

describe.sequential('a store goes down while the app runs', () => {
  it('healthz is 200 while everything is up', async () => {
    await request(app).get('/healthz').expect(200);
  });

  it('Redis down: healthz 503 names Redis; Redis-backed locks answer 503 STORE_UNAVAILABLE with Retry-After', async () => {
    await stopProcess(redisServer);

    const health = await request(app).get('/healthz').expect(503);
    expect(health.body.checks).toEqual({ redis: 'down', mysql: 'up', mysqlLocks: 'up' });
    expect(health.body.error.code).toBe('STORE_UNAVAILABLE');

    for (const path of ['/stocks/p-down/decrease', '/race/spin/stocks/p-down/decrease']) {
      const response = await request(app).post(path).send({ quantity: 1 }).expect(503);
      expect(response.body.error.code).toBe('STORE_UNAVAILABLE');
      expect(response.headers['retry-after']).toBeDefined();
    }
    const order = await request(app)
      .post('/orders')
      .send({ userId: 'u-down', productId: 'p-down' })
      .expect(503);
    expect(order.body.error.code).toBe('STORE_UNAVAILABLE');
    // Nothing was written while the lock could not be taken.
    await request(app).get('/stocks/p-down').expect(200, { productId: 'p-down', quantity: 10 });
  });

  it('the MySQL lock backend does not depend on Redis: the race on mysql still works', async () => {
    const response = await request(app)
      .post('/race/mysql/stocks/p-down/decrease')
      .send({ quantity: 1 })
      .expect(200);
    expect(response.body.quantity).toBe(9);
  });

  it('MySQL down: healthz names it; MySQL locks and database reads answer 503 STORE_UNAVAILABLE', async () => {
    // The tables go first, while MySQL is still reachable.
    await dropTables(context.dataSource, tablePrefix);
    await mysqlProxy.cut();

    const locked = await request(app)
      .post('/race/mysql/stocks/p-down/decrease')
      .send({ quantity: 1 })
      .expect(503);
    expect(locked.body.error.code).toBe('STORE_UNAVAILABLE');
    const read = await request(app).get('/stocks/p-down').expect(503);
    expect(read.body.error.code).toBe('STORE_UNAVAILABLE');
    const health = await request(app).get('/healthz').expect(503);
    expect(health.body.checks).toEqual({ redis: 'down', mysql: 'down', mysqlLocks: 'down' });
  });
});
