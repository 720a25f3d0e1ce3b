import 'reflect-metadata';
import { DistributedLock } from '@dlock/core';
import {
  Controller,
  Get,
  type INestApplication,
  type LoggerService,
  NotFoundException,
  Param,
  Post,
  UseFilters,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { DlockModule, LockErrorFilter } from '../src/index.js';
import { createGate, redisBackends, testPrefix } from './support/redis-backends.js';

/** Keeps the first `decrease` request inside its critical section until the test opens it. */
let inside = createGate();
let leave = createGate();

@Controller('stock')
class StockController {
  @Post(':id/decrease')
  @DistributedLock({ key: 'stock:{0}' })
  async decrease(@Param('id') id: string): Promise<{ id: string; decreased: boolean }> {
    inside.open();
    await leave.opened;
    return { id, decreased: true };
  }

  // Decorator order reversed on purpose: the lock's wrapper must keep the route metadata either way.
  @DistributedLock({ key: 'stock:{0}', retry: { waitMs: 200 } })
  @Post(':id/decrease-waiting')
  async decreaseWaiting(@Param('id') id: string): Promise<{ id: string }> {
    return { id };
  }

  @Get('broken')
  @DistributedLock({ key: () => '' })
  async broken(): Promise<string> {
    return 'never';
  }

  @Get('missing')
  async missing(): Promise<never> {
    throw new NotFoundException('No such product');
  }

  @Get('plain-error')
  async plainError(): Promise<never> {
    throw new Error('a bug that is not a lock error');
  }
}

@UseFilters(LockErrorFilter)
@Controller('filtered')
class FilteredStockController extends StockController {}

class CapturingLogger implements LoggerService {
  readonly errors: string[] = [];
  log(): void {}
  warn(): void {}
  error(message: unknown, ...rest: unknown[]): void {
    this.errors.push([message, ...rest].map(String).join(' | '));
  }
}

type AdapterName = 'express' | 'fastify';
type Install = 'module option' | '@UseFilters' | 'useGlobalFilters';

const apps: INestApplication[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});

async function startServer(adapterName: AdapterName, install: Install) {
  const logger = new CapturingLogger();
  const moduleRef = await Test.createTestingModule({
    imports: [
      DlockModule.forRoot({
        backends: redisBackends(),
        keyPrefix: testPrefix(`nest-http-${adapterName}`),
        errorFilter: install === 'module option',
      }),
    ],
    controllers: [install === '@UseFilters' ? FilteredStockController : StockController],
  }).compile();
  const app = moduleRef.createNestApplication(
    adapterName === 'express' ? new ExpressAdapter() : new FastifyAdapter(),
    { logger },
  );
  apps.push(app);
  if (install === 'useGlobalFilters') {
    app.useGlobalFilters(new LockErrorFilter(app.get(HttpAdapterHost).httpAdapter));
  }
  await app.listen(0, '127.0.0.1');
  const base = `${(await app.getUrl()).replace('[::1]', '127.0.0.1')}/${install === '@UseFilters' ? 'filtered' : 'stock'}`;
  return { base, logger };
}

async function call(url: string, method: 'GET' | 'POST' = 'POST') {
  const response = await fetch(url, { method });
  return {
    status: response.status,
    retryAfter: response.headers.get('retry-after'),
    body: (await response.json()) as Record<string, unknown>,
  };
}

const cases: [AdapterName, Install][] = [
  ['express', 'module option'],
  ['fastify', 'module option'],
  ['express', '@UseFilters'],
  ['fastify', 'useGlobalFilters'],
];

describe.each(cases)('LockErrorFilter under %s, installed by %s', (adapterName, install) => {
  it('answers a concurrent request 409, a wait that runs out 503 + Retry-After, and lets the first finish', async () => {
    inside = createGate();
    leave = createGate();
    const { base } = await startServer(adapterName, install);

    const first = call(`${base}/42/decrease`);
    await inside.opened;
    const second = await call(`${base}/42/decrease`);
    expect(second).toEqual({
      status: 409,
      retryAfter: null,
      body: {
        statusCode: 409,
        code: 'LOCK_NOT_ACQUIRED',
        message: 'Another request for the same resource is in progress.',
      },
    });
    const waiting = await call(`${base}/42/decrease-waiting`);
    expect(waiting).toMatchObject({ status: 503, retryAfter: '1', body: { code: 'LOCK_TIMEOUT' } });
    // Another product is not blocked by product 42.
    await expect(call(`${base}/7/decrease-waiting`)).resolves.toMatchObject({
      status: 201,
      body: { id: '7' },
    });

    leave.open();
    await expect(first).resolves.toMatchObject({ status: 201, body: { id: '42', decreased: true } });
    await expect(call(`${base}/42/decrease-waiting`)).resolves.toMatchObject({ status: 201 });
  });

  it('answers a caller bug 500 with one clear log line, and leaves other exceptions to Nest', async () => {
    const { base, logger } = await startServer(adapterName, install);

    const broken = await call(`${base}/broken`, 'GET');
    expect(broken).toEqual({
      status: 500,
      retryAfter: null,
      body: { statusCode: 500, code: 'INTERNAL_ERROR', message: 'Internal error.' },
    });
    const lines = logger.errors.filter((line) => line.includes('InvalidLockKeyError'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(
      `GET /${install === '@UseFilters' ? 'filtered' : 'stock'}/broken answered 500`,
    );

    await expect(call(`${base}/missing`, 'GET')).resolves.toMatchObject({
      status: 404,
      body: { statusCode: 404, message: 'No such product' },
    });
    await expect(call(`${base}/plain-error`, 'GET')).resolves.toEqual({
      status: 500,
      retryAfter: null,
      body: { statusCode: 500, message: 'Internal server error' },
    });
  });
});
