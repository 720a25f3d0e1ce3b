import type { LockManager, LockManagerEvents } from '@dlock/core';
import { type MeterProvider, metrics, type TracerProvider, trace } from '@opentelemetry/api';
import { type KeyAttributeOption, keyAttributeResolver } from './key-attribute.js';
import { LockManagerInstrumentation } from './lock-manager-instrumentation.js';
import { LockMetrics } from './lock-metrics.js';

/** Options of {@link instrumentLockManager}. */
export interface LockInstrumentationOptions {
  /** Where spans go. Default: the global tracer provider (`trace.getTracerProvider()`). */
  readonly tracerProvider?: TracerProvider | undefined;
  /**
   * Where metrics go. Default: the global meter provider. Unlike traces, the global metrics API has
   * no proxy: register the SDK (e.g. `NodeSDK.start()`) before calling `instrumentLockManager`.
   */
  readonly meterProvider?: MeterProvider | undefined;
  /** What `dlock.lock.key` carries; see {@link KeyAttributeOption}. Default `'template'`. */
  readonly keyAttribute?: KeyAttributeOption | undefined;
}

/** What {@link instrumentLockManager} returns. */
export interface LockInstrumentation {
  /**
   * Stop listening to the manager and end every span still open (their hold end is `unknown`), so
   * nothing leaks. Idempotent.
   */
  uninstrument(): void;
}

/** The instrumentation scope name of dlock's tracer and meter. */
export const INSTRUMENTATION_SCOPE = '@dlock/opentelemetry';

/**
 * Trace and measure every lock a manager takes, from its events (no wrapping, no monkey-patching):
 * a `dlock.acquire` span per key and call, a `dlock.hold` span while the lock is held (both children
 * of the caller's active span), and the `dlock.lock.*` metrics. Call it once per manager, after the
 * OpenTelemetry SDK is registered.
 *
 * For the default manager of `@DistributedLock`: `instrumentLockManager(getDefaultLockManager())`,
 * after `setDefaultLockManager(...)`.
 *
 * @example
 * const manager = new LockManager({ backends: { pubsub } });
 * const telemetry = instrumentLockManager(manager, { keyAttribute: 'template' });
 * // on shutdown, after manager.close():
 * telemetry.uninstrument();
 */
export function instrumentLockManager<B extends string>(
  manager: LockManager<B>,
  options: LockInstrumentationOptions = {},
): LockInstrumentation {
  const tracer = (options.tracerProvider ?? trace.getTracerProvider()).getTracer(INSTRUMENTATION_SCOPE);
  const meter = (options.meterProvider ?? metrics.getMeterProvider()).getMeter(INSTRUMENTATION_SCOPE);
  const instrumentation = new LockManagerInstrumentation(
    tracer,
    new LockMetrics(meter),
    keyAttributeResolver(options.keyAttribute),
  );
  const listeners = instrumentation.listeners();
  const names = Object.keys(listeners) as (keyof LockManagerEvents)[];
  for (const name of names) manager.on(name, listeners[name] as never);
  let removed = false;
  return {
    uninstrument() {
      if (removed) return;
      removed = true;
      for (const name of names) manager.off(name, listeners[name] as never);
      instrumentation.endAll();
    },
  };
}
