import { type Attributes, type Context, context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  AggregationTemporality,
  DataPointType,
  InMemoryMetricExporter,
  MeterProvider,
  type MetricData,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  type Span,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll } from 'vitest';

/** Registers AsyncLocalStorage as the context manager for the file, so `context.active()` follows awaits. */
export function useAsyncContext(): void {
  const manager = new AsyncLocalStorageContextManager();
  beforeAll(() => {
    context.setGlobalContextManager(manager.enable());
  });
  afterAll(() => {
    context.disable();
  });
}

/** Spans started and not yet ended: what a leak would leave behind. */
class OpenSpanTracker implements SpanProcessor {
  readonly open = new Set<Span>();
  onStart(span: Span, _parentContext: Context): void {
    this.open.add(span);
  }
  onEnd(span: ReadableSpan): void {
    this.open.delete(span as Span);
  }
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** An SDK tracer and meter provider with in-memory exporters, and lookups over what they got. */
export class OtelHarness {
  readonly spanExporter = new InMemorySpanExporter();
  readonly openSpans = new OpenSpanTracker();
  readonly tracerProvider = new BasicTracerProvider({
    spanProcessors: [new SimpleSpanProcessor(this.spanExporter), this.openSpans],
  });
  readonly metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  readonly #reader = new PeriodicExportingMetricReader({
    exporter: this.metricExporter,
    exportIntervalMillis: 3_600_000,
  });
  readonly meterProvider = new MeterProvider({ readers: [this.#reader] });

  spans(name?: string): ReadableSpan[] {
    return this.spanExporter.getFinishedSpans().filter((span) => name === undefined || span.name === name);
  }

  /** Every metric as of now (one collection). */
  async metrics(): Promise<MetricData[]> {
    this.metricExporter.reset();
    await this.#reader.forceFlush();
    return this.metricExporter
      .getMetrics()
      .flatMap((resource) => resource.scopeMetrics.flatMap((scope) => scope.metrics));
  }

  /**
   * The value of a sum (counter, up-down counter) or the count of a histogram, for the data point
   * whose attributes are exactly `attributes`; 0 when there is none.
   */
  async value(name: string, attributes: Attributes): Promise<number> {
    const metric = (await this.metrics()).find((candidate) => candidate.descriptor.name === name);
    if (!metric) return 0;
    const point = metric.dataPoints.find((candidate) => sameAttributes(candidate.attributes, attributes));
    if (!point) return 0;
    if (metric.dataPointType === DataPointType.HISTOGRAM) return (point.value as { count: number }).count;
    return point.value as number;
  }

  /** Attribute sets of every data point of a metric. */
  async attributeSets(name: string): Promise<Attributes[]> {
    const metric = (await this.metrics()).find((candidate) => candidate.descriptor.name === name);
    return metric ? metric.dataPoints.map((point) => point.attributes) : [];
  }

  async shutdown(): Promise<void> {
    await Promise.all([this.tracerProvider.shutdown(), this.meterProvider.shutdown()]);
  }
}

function sameAttributes(a: Attributes, b: Attributes): boolean {
  const aKeys = Object.keys(a).sort();
  const bKeys = Object.keys(b).sort();
  return aKeys.length === bKeys.length && aKeys.every((key, i) => key === bKeys[i] && a[key] === b[key]);
}
