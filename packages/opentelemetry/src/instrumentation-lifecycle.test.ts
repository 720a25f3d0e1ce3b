import { setTimeout as sleep } from 'node:timers/promises';
import { LockManager, type LockManagerEvents, MemoryLockBackend } from '@dlock/core';
import { describe, expect, it } from 'vitest';
import { instrumentedManagers, only } from '../test/support/instrumented-manager.js';
import { OtelHarness, useAsyncContext } from '../test/support/otel-harness.js';
import { DLOCK_ATTRIBUTES as A, instrumentLockManager, DLOCK_METRICS as M } from './index.js';

useAsyncContext();

const setup = instrumentedManagers();

const EVENTS: (keyof LockManagerEvents)[] = [
  'acquiring',
  'acquired',
  'failed',
  'released',
  'contended',
  'timeout',
  'renewed',
  'renewalFailed',
  'lost',
  'skipped',
  'lag',
];

describe('instrumentLockManager', () => {
  it('keyAttribute: the raw key, none, or a function', async () => {
    const cases = [
      { keyAttribute: 'key', span: 'stock:42', metric: 'stock:42' },
      { keyAttribute: 'none', span: undefined, metric: undefined },
      { keyAttribute: () => 'stock', span: 'stock', metric: 'stock' },
    ] as const;
    for (const { keyAttribute, span, metric } of cases) {
      const { otel, manager } = setup({ keyAttribute });
      await manager.withLock('stock:42', { keyTemplate: 'stock:{0}' }, () => {});
      expect(only(otel.spans('dlock.acquire')).attributes[A.key]).toBe(span);
      expect(only(otel.spans('dlock.hold')).attributes[A.key]).toBe(span);
      const [sets] = [await otel.attributeSets(M.acquisitions)];
      expect(sets).toEqual([
        {
          ...(metric === undefined ? {} : { [A.key]: metric }),
          [A.backend]: 'memory',
          [A.outcome]: 'acquired',
        },
      ]);
    }
    expect(() =>
      instrumentLockManager(new LockManager({ backends: { memory: new MemoryLockBackend() } }), {
        keyAttribute: 'raw' as never,
      }),
    ).toThrow(/keyAttribute must be/);
  });

  it('uninstrument removes every listener and ends the spans still open', async () => {
    const manager = new LockManager({ backends: { memory: new MemoryLockBackend() } });
    const before = EVENTS.map((event) => manager.listenerCount(event));
    const otel = new OtelHarness();
    const telemetry = instrumentLockManager(manager, {
      tracerProvider: otel.tracerProvider,
      meterProvider: otel.meterProvider,
    });
    expect(EVENTS.map((event) => manager.listenerCount(event))).toEqual(before.map((count) => count + 1));

    const holder = await manager.acquire('held', { leaseMs: 60_000 });
    const waiting = manager.withLock('held', { retry: { waitMs: 5_000 } }, () => 'done');
    await sleep(10);
    expect(otel.openSpans.open.size).toBe(2); // the hold, and the waiter's acquire
    telemetry.uninstrument();
    telemetry.uninstrument(); // idempotent
    expect(EVENTS.map((event) => manager.listenerCount(event))).toEqual(before);
    expect(otel.openSpans.open.size).toBe(0);
    expect(only(otel.spans('dlock.hold')).attributes[A.holdEnd]).toBe('unknown');
    expect(await otel.value(M.held, { [A.backend]: 'memory' })).toBe(0);
    expect(await otel.value(M.waiting, { [A.backend]: 'memory' })).toBe(0);

    // Nothing more is recorded once removed.
    await holder.release();
    await expect(waiting).resolves.toBe('done');
    expect(otel.spans()).toHaveLength(3);
    await manager.close();
    await otel.shutdown();
  });

  it('without a caller span, the spans are roots; without an SDK, nothing breaks', async () => {
    const { otel, manager } = setup();
    await manager.withLock('k', {}, () => {});
    expect(only(otel.spans('dlock.acquire')).parentSpanContext).toBeUndefined();

    // The global API with no SDK registered: no-op tracer and meter.
    const plain = new LockManager({ backends: { memory: new MemoryLockBackend() } });
    const telemetry = instrumentLockManager(plain);
    await expect(plain.withLock('k', {}, () => 'ok')).resolves.toBe('ok');
    telemetry.uninstrument();
    await plain.close();
  });
  it('an event-loop stall that threatens a held lease is recorded in the stall histogram', async () => {
    const { manager, otel } = setup();
    await manager.withLock('job', { leaseMs: 900 }, async () => {
      await sleep(60);
      const until = Date.now() + 500;
      while (Date.now() < until) {
        // a synchronous stall: no timer can run
      }
      await sleep(60);
    });
    expect(await otel.value(M.stallDuration, {})).toBe(1);
  });
});
