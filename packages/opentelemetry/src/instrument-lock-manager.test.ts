import { setTimeout as sleep } from 'node:timers/promises';
import { DistributedLock, MemoryLockBackend } from '@dlock/core';
import { faultyBackend } from '@dlock/testing';
import { SpanStatusCode } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { instrumentedManagers, only } from '../test/support/instrumented-manager.js';
import { useAsyncContext } from '../test/support/otel-harness.js';
import { DLOCK_ATTRIBUTES as A, DLOCK_METRICS as M } from './index.js';

useAsyncContext();

const setup = instrumentedManagers();

describe('instrumentLockManager', () => {
  it('a decorated call: dlock.acquire and dlock.hold are children of the caller span, keyed by the template', async () => {
    const { otel, manager, inSpan } = setup();
    class Stock {
      @DistributedLock({ key: 'stock:{0}', manager })
      async decrease(productId: string): Promise<string> {
        await sleep(20);
        return productId;
      }
    }
    await inSpan('POST /stocks/:id/decrease', () => new Stock().decrease('42'));

    const caller = only(otel.spans('POST /stocks/:id/decrease'));
    const acquire = only(otel.spans('dlock.acquire'));
    const hold = only(otel.spans('dlock.hold'));
    for (const span of [acquire, hold]) {
      expect(span.parentSpanContext?.spanId).toBe(caller.spanContext().spanId);
      expect(span.spanContext().traceId).toBe(caller.spanContext().traceId);
    }
    expect(acquire.attributes).toMatchObject({
      [A.key]: 'stock:{0}',
      [A.label]: 'Stock.decrease',
      [A.backend]: 'memory',
      [A.outcome]: 'acquired',
      [A.contended]: false,
      [A.maxWaitMs]: 0,
      [A.fencingToken]: 1,
    });
    expect(acquire.status.code).toBe(SpanStatusCode.UNSET);
    expect(hold.attributes).toMatchObject({
      [A.key]: 'stock:{0}',
      [A.holdEnd]: 'released',
      [A.fencingToken]: 1,
      [A.renewals]: 0,
    });
    expect(hold.attributes[A.heldMs]).toBeGreaterThanOrEqual(15);
    // The hold starts when the wait ends.
    expect(hrMs(hold.startTime)).toBeGreaterThanOrEqual(hrMs(acquire.endTime) - 1);

    const attributes = { [A.key]: 'stock:{0}', [A.backend]: 'memory' };
    const acquired = { ...attributes, [A.outcome]: 'acquired' };
    expect(await otel.value(M.acquisitions, acquired)).toBe(1);
    expect(await otel.value(M.waitDuration, acquired)).toBe(1);
    expect(await otel.value(M.holdDuration, { ...attributes, [A.holdEnd]: 'released' })).toBe(1);
    expect(await otel.value(M.held, attributes)).toBe(0);
    expect(await otel.value(M.waiting, attributes)).toBe(0);
    const [histogram] = (await otel.metrics()).filter((metric) => metric.descriptor.name === M.holdDuration);
    expect(histogram?.descriptor.unit).toBe('s');
  });

  it('contention: the waiter is counted as waiting, its span says contended, both holds are held in turn', async () => {
    const { otel, manager, inSpan } = setup();
    let release!: () => void;
    const first = inSpan('first', () =>
      manager.withLock(
        'job:report',
        { keyTemplate: 'job:{0}' },
        () => new Promise<void>((r) => (release = r)),
      ),
    );
    await sleep(5);
    const second = inSpan('second', () =>
      manager.withLock('job:report', { keyTemplate: 'job:{0}', retry: { waitMs: 5_000 } }, () => sleep(1)),
    );
    await sleep(20);
    const attributes = { [A.key]: 'job:{0}', [A.backend]: 'memory' };
    expect(await otel.value(M.held, attributes)).toBe(1);
    expect(await otel.value(M.waiting, attributes)).toBe(1);
    release();
    await Promise.all([first, second]);
    expect(await otel.value(M.held, attributes)).toBe(0);
    expect(await otel.value(M.waiting, attributes)).toBe(0);

    const acquires = otel.spans('dlock.acquire');
    expect(acquires.map((span) => span.attributes[A.contended])).toEqual([false, true]);
    const waited = acquires[1]!;
    expect(waited.parentSpanContext?.spanId).toBe(only(otel.spans('second')).spanContext().spanId);
    expect(waited.attributes[A.waitedMs]).toBeGreaterThanOrEqual(15);
    expect(waited.attributes[A.fencingToken]).toBe(2);
    expect(otel.spans('dlock.hold')).toHaveLength(2);
  });

  it('outcomes: not_acquired and aborted leave the status unset, timeout and a store error set it', async () => {
    const backend = faultyBackend(new MemoryLockBackend());
    const { otel, manager } = setup({ backend });
    const holder = await manager.acquire('k', { leaseMs: 60_000 });
    await expect(manager.withLock('k', {}, () => {})).rejects.toMatchObject({ code: 'LOCK_NOT_ACQUIRED' });
    await expect(manager.withLock('k', { retry: { waitMs: 30 } }, () => {})).rejects.toMatchObject({
      code: 'LOCK_TIMEOUT',
    });
    const abort = new AbortController();
    const aborted = manager.withLock('k', { retry: { waitMs: 5_000 }, signal: abort.signal }, () => {});
    await sleep(10);
    abort.abort();
    await expect(aborted).rejects.toMatchObject({ code: 'LOCK_ABORTED' });
    await holder.release();
    backend.faults.failAcquire = { times: 1 };
    await expect(manager.withLock('k', {}, () => {})).rejects.toMatchObject({ code: 'LOCK_BACKEND_ERROR' });

    const byOutcome = new Map(
      otel.spans('dlock.acquire').map((span) => [String(span.attributes[A.outcome]), span] as const),
    );
    expect([...byOutcome.keys()].sort()).toEqual(['aborted', 'acquired', 'error', 'not_acquired', 'timeout']);
    expect(byOutcome.get('not_acquired')!.status.code).toBe(SpanStatusCode.UNSET);
    expect(byOutcome.get('aborted')!.status.code).toBe(SpanStatusCode.UNSET);
    expect(byOutcome.get('timeout')!.status.code).toBe(SpanStatusCode.ERROR);
    expect(byOutcome.get('timeout')!.attributes).toMatchObject({
      [A.errorType]: 'LOCK_TIMEOUT',
      [A.contended]: true,
    });
    expect(byOutcome.get('error')!.status).toMatchObject({ code: SpanStatusCode.ERROR });
    expect(byOutcome.get('error')!.attributes[A.errorType]).toBe('LOCK_BACKEND_ERROR');

    // No template: metrics carry no key at all (the raw key is for spans only).
    for (const outcome of ['acquired', 'not_acquired', 'timeout', 'aborted', 'error']) {
      expect(await otel.value(M.acquisitions, { [A.backend]: 'memory', [A.outcome]: outcome })).toBe(1);
    }
    expect(byOutcome.get('timeout')!.attributes[A.key]).toBe('k');
    expect(await otel.value(M.waiting, { [A.backend]: 'memory' })).toBe(0);
  });

  it('skipped calls are counted by reason', async () => {
    const { otel, manager } = setup();
    const holder = await manager.acquire('job:nightly', { leaseMs: 60_000, keyTemplate: 'job:{0}' });
    const run = await manager.tryWithLock('job:nightly', { keyTemplate: 'job:{0}' }, () => 'ran');
    expect(run).toEqual({ acquired: false, reason: 'held' });
    await holder.release();
    const attributes = { [A.key]: 'job:{0}', [A.backend]: 'memory' };
    expect(await otel.value(M.skips, { ...attributes, [A.skipReason]: 'held' })).toBe(1);
    expect(await otel.value(M.acquisitions, { ...attributes, [A.outcome]: 'not_acquired' })).toBe(1);
  });

  it('a lost lock: the hold span records the exception, has status ERROR and ends at the loss', async () => {
    const backend = faultyBackend(new MemoryLockBackend(), { loseLockAfterMs: 30 });
    const { otel, manager, inSpan } = setup({ backend });
    const outcome = inSpan('job', () =>
      manager.withLock('stock:7', { keyTemplate: 'stock:{0}' }, async ({ signal }) => {
        await sleep(200, undefined, { signal }).catch(() => {});
      }),
    );
    await expect(outcome).rejects.toMatchObject({ code: 'LOCK_LOST' });

    const hold = only(otel.spans('dlock.hold'));
    expect(hold.status.code).toBe(SpanStatusCode.ERROR);
    expect(hold.attributes).toMatchObject({ [A.holdEnd]: 'lost', [A.errorType]: 'LOCK_LOST' });
    const exception = hold.events.find((event) => event.name === 'exception');
    expect(exception?.attributes?.['exception.type']).toBe('LOCK_LOST');
    expect(hold.parentSpanContext?.spanId).toBe(only(otel.spans('job')).spanContext().spanId);
    const attributes = { [A.key]: 'stock:{0}', [A.backend]: 'memory' };
    expect(await otel.value(M.losses, attributes)).toBe(1);
    expect(await otel.value(M.holdDuration, { ...attributes, [A.holdEnd]: 'lost' })).toBe(1);
    expect(await otel.value(M.held, attributes)).toBe(0);
  });

  it('renewals and renewal failures are counted and summed up on the hold span', async () => {
    const backend = faultyBackend(new MemoryLockBackend());
    const { otel, manager } = setup({ backend });
    await manager.withLock('k', { leaseMs: 90, keyTemplate: 'k' }, async () => {
      await sleep(100); // renewals every 30 ms
      backend.faults.failExtend = { times: 1 };
      await sleep(40);
    });
    const hold = only(otel.spans('dlock.hold'));
    expect(hold.attributes[A.renewals]).toBeGreaterThanOrEqual(2);
    expect(hold.attributes[A.renewalFailures]).toBe(1);
    const attributes = { [A.key]: 'k', [A.backend]: 'memory' };
    expect(await otel.value(M.renewals, attributes)).toBe(hold.attributes[A.renewals]);
    expect(await otel.value(M.renewalFailures, attributes)).toBe(1);
  });
});

function hrMs([seconds, nanos]: [number, number]): number {
  return seconds * 1_000 + nanos / 1e6;
}
