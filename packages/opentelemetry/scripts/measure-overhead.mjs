// Overhead of @dlock/opentelemetry on a decorated call against MemoryLockBackend (no I/O, so the
// instrumentation's share is as large as it can get). Not part of `pnpm test`:
//   pnpm --filter @dlock/opentelemetry overhead [-- --calls 10000 --rounds 15]   (scripts/overhead.mjs)
// Phase 1 compares no instrumentation with instrumentation through the global API and no SDK
// (no-op tracer and meter). Phase 2 registers AsyncLocalStorage as context manager (as NodeSDK
// does) and compares no instrumentation with the SDK recording every span (batch processor, an
// exporter that drops them) and aggregating every metric.
import { parseArgs } from 'node:util';
import { LockManager, MemoryLockBackend } from '@dlock/core';
import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { instrumentLockManager } from '../src/index.ts';
import { decoratedStock } from './decorated-stock.ts';

const { values } = parseArgs({
  options: { calls: { type: 'string', default: '10000' }, rounds: { type: 'string', default: '15' } },
});
const calls = Number(values.calls);
const rounds = Number(values.rounds);

/** A scenario: a decorated service on a fresh manager, instrumented or not. */
function scenario(name, instrument) {
  const manager = new LockManager({ backends: { memory: new MemoryLockBackend() } });
  const telemetry = instrument?.(manager);
  return { name, service: decoratedStock(manager), manager, telemetry, samples: [] };
}

async function runRound(subject) {
  // CPU time, not wall time: on a shared machine, waiting for a core is not the code's cost.
  const started = process.cpuUsage();
  for (let i = 0; i < calls; i++) await subject.service.decrease(String(i % 100));
  const used = process.cpuUsage(started);
  subject.samples.push(((used.user + used.system) * 1_000) / calls);
}

async function compare(title, subjects) {
  for (const subject of subjects) for (let i = 0; i < 2_000; i++) await subject.service.decrease('warm');
  // Interleaved rounds, so drift (GC, other load on the machine) hits every scenario alike.
  for (let round = 0; round < rounds; round++) for (const subject of subjects) await runRound(subject);
  // Median CPU time per call over the rounds; the fastest round shows how far noise reaches.
  const fastest = (samples) => Math.min(...samples);
  const median = (samples) => [...samples].sort((a, b) => a - b)[Math.floor(samples.length / 2)];
  const base = median(subjects[0].samples);
  console.log(
    `\n${title} (${calls} calls x ${rounds} rounds; CPU time per call: median round, fastest round)`,
  );
  for (const subject of subjects) {
    const value = median(subject.samples);
    const delta = subject === subjects[0] ? '' : `, +${((value - base) / 1000).toFixed(1)} µs`;
    const spread = `fastest ${(fastest(subject.samples) / 1000).toFixed(1)} µs`;
    console.log(`  ${subject.name.padEnd(48)} ${(value / 1000).toFixed(1)} µs (${spread})${delta}`);
  }
  for (const subject of subjects) {
    subject.telemetry?.uninstrument();
    await subject.manager.close();
  }
}

await compare('Phase 1: no SDK', [
  scenario('no instrumentation'),
  scenario('instrumented, global API, no SDK (no-op)', (manager) => instrumentLockManager(manager)),
]);

context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
const dropAll = { export: (_spans, done) => done({ code: 0 }), shutdown: async () => {} };
const tracerProvider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(dropAll)] });
const reader = new PeriodicExportingMetricReader({
  exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE),
  exportIntervalMillis: 3_600_000,
});
const meterProvider = new MeterProvider({ readers: [reader] });
await compare('Phase 2: AsyncLocalStorage context manager registered', [
  scenario('no instrumentation'),
  scenario('instrumented, SDK: spans recorded + metrics', (manager) =>
    instrumentLockManager(manager, { tracerProvider, meterProvider }),
  ),
  scenario('instrumented, SDK: metrics only (no-op tracer)', (manager) =>
    instrumentLockManager(manager, { meterProvider }),
  ),
]);
await Promise.all([tracerProvider.shutdown(), meterProvider.shutdown()]);
console.log(`\nnode ${process.version}, ${process.platform}/${process.arch}`);
