import { setTimeout as sleep } from 'node:timers/promises';
import { clientFactory } from '@dlock/conformance';
import { testPrefix } from '@dlock/conformance/redis';
import { LockManager } from '@dlock/core';
import { RedisPubSubLockBackend } from '@dlock/redis-pubsub';
import { SpanStatusCode } from '@opentelemetry/api';
import { afterAll, describe, expect, it } from 'vitest';
import { DLOCK_ATTRIBUTES as A, instrumentLockManager, DLOCK_METRICS as M } from '../src/index.js';
import { OtelHarness, useAsyncContext } from './support/otel-harness.js';

useAsyncContext();
const newClient = clientFactory();
const keyPrefix = testPrefix('otel');

describe('instrumentLockManager on Redis pub/sub', () => {
  // Two managers on two connections stand for two servers; only the waiting one is instrumented.
  const holder = new LockManager({
    backends: { pubsub: new RedisPubSubLockBackend(newClient(), { keyPrefix }) },
  });
  const waiter = new LockManager({
    backends: { pubsub: new RedisPubSubLockBackend(newClient(), { keyPrefix }) },
  });
  const otel = new OtelHarness();
  const telemetry = instrumentLockManager(waiter, {
    tracerProvider: otel.tracerProvider,
    meterProvider: otel.meterProvider,
  });
  afterAll(async () => {
    await Promise.all([holder.close(), waiter.close()]);
    telemetry.uninstrument();
    await otel.shutdown();
  });

  it('a contended acquire: the span waits for the other server release, under the caller span', async () => {
    const held = await holder.acquire('stock:42', { leaseMs: 10_000 });
    const tracer = otel.tracerProvider.getTracer('test');
    const request = tracer.startActiveSpan('POST /stocks/42/decrease', async (span) => {
      try {
        return await waiter.withLock(
          'stock:42',
          { keyTemplate: 'stock:{0}', label: 'StockService.decrease', retry: { waitMs: 5_000 } },
          () => 'sold',
        );
      } finally {
        span.end();
      }
    });
    await sleep(150);
    const attributes = { [A.key]: 'stock:{0}', [A.backend]: 'pubsub' };
    expect(await otel.value(M.waiting, attributes)).toBe(1);
    await held.release();
    await expect(request).resolves.toBe('sold');

    const [caller] = otel.spans('POST /stocks/42/decrease');
    const [acquire] = otel.spans('dlock.acquire');
    expect(acquire?.parentSpanContext?.spanId).toBe(caller?.spanContext().spanId);
    expect(acquire?.attributes).toMatchObject({
      [A.key]: 'stock:{0}',
      [A.label]: 'StockService.decrease',
      [A.backend]: 'pubsub',
      [A.outcome]: 'acquired',
      [A.contended]: true,
      [A.maxWaitMs]: 5_000,
    });
    expect(acquire?.attributes[A.waitedMs]).toBeGreaterThanOrEqual(140);
    expect(acquire?.attributes[A.fencingToken]).toEqual(expect.any(Number));
    expect(acquire?.status.code).toBe(SpanStatusCode.UNSET);
    expect(otel.spans('dlock.hold')[0]?.attributes[A.holdEnd]).toBe('released');
    expect(await otel.value(M.acquisitions, { ...attributes, [A.outcome]: 'acquired' })).toBe(1);
    expect(await otel.value(M.waiting, attributes)).toBe(0);
    expect(otel.openSpans.open.size).toBe(0);
  });
});
