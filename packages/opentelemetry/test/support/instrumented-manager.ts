import { type LockBackend, LockManager, MemoryLockBackend } from '@dlock/core';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterEach, expect } from 'vitest';
import { instrumentLockManager, type KeyAttributeOption } from '../../src/index.js';
import { OtelHarness } from './otel-harness.js';

/**
 * A factory of instrumented managers on their own SDK harness, each closed after its test, which
 * then checks that every span the instrumentation started was ended.
 *
 * @example
 * const setup = instrumentedManagers();
 * it('...', async () => { const { otel, manager, inSpan } = setup(); });
 */
export function instrumentedManagers() {
  let cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    cleanups = [];
  });

  return function setup(options: { backend?: LockBackend; keyAttribute?: KeyAttributeOption } = {}) {
    const otel = new OtelHarness();
    const manager = new LockManager({ backends: { memory: options.backend ?? new MemoryLockBackend() } });
    const telemetry = instrumentLockManager(manager, {
      tracerProvider: otel.tracerProvider,
      meterProvider: otel.meterProvider,
      keyAttribute: options.keyAttribute,
    });
    const tracer = otel.tracerProvider.getTracer('test');
    /** Run `fn` inside a caller span, the way an HTTP or job instrumentation would. */
    const inSpan = <T>(name: string, fn: () => Promise<T>): Promise<T> =>
      tracer.startActiveSpan(name, async (span) => {
        try {
          return await fn();
        } finally {
          span.end();
        }
      });
    cleanups.push(async () => {
      await manager.close();
      telemetry.uninstrument();
      // Every span this instrumentation started was ended.
      expect([...otel.openSpans.open].map((span) => span.name)).toEqual([]);
      await otel.shutdown();
    });
    return { otel, manager, telemetry, inSpan };
  };
}

/** The one span of `spans`, checked to be alone. */
export const only = (spans: ReadableSpan[]): ReadableSpan => {
  expect(spans).toHaveLength(1);
  return spans[0]!;
};
