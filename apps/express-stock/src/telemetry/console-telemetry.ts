// OTEL=console: the app's lock spans and metrics printed to stdout by the OpenTelemetry SDK's
// console exporters. Loaded by main.ts only when asked, so the default path (and the tests) never
// load the SDK. A real deployment would use NodeSDK with an OTLP exporter instead.
import type { LockManager } from '@dlock/core';
import { instrumentLockManager, type LockInstrumentation } from '@dlock/opentelemetry';
import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  ConsoleMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, ConsoleSpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';

/** How often the metrics are printed. */
const METRIC_INTERVAL_MS = 10_000;

/**
 * Print every `dlock.acquire` / `dlock.hold` span as it ends, and the `dlock.lock.*` metrics every
 * 10 s. Returns a function that stops the instrumentation and flushes both providers.
 *
 * @example
 * if (process.env.OTEL === 'console') startConsoleTelemetry(context.lockManager);
 */
export function startConsoleTelemetry(lockManager: LockManager): () => Promise<void> {
  // Lets a span started in a request stay the parent across awaits.
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  const tracerProvider = new BasicTracerProvider({
    spanProcessors: [new SimpleSpanProcessor(new ConsoleSpanExporter())],
  });
  const meterProvider = new MeterProvider({
    readers: [
      new PeriodicExportingMetricReader({
        exporter: new ConsoleMetricExporter(),
        exportIntervalMillis: METRIC_INTERVAL_MS,
      }),
    ],
  });
  const telemetry: LockInstrumentation = instrumentLockManager(lockManager, {
    tracerProvider,
    meterProvider,
  });
  return async () => {
    telemetry.uninstrument();
    await Promise.all([tracerProvider.shutdown(), meterProvider.shutdown()]);
  };
}
