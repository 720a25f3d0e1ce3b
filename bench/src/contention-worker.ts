/**
 * One of the 4 worker processes of the contention scenario (started by `WorkerPool`). Per round
 * it builds the library's adapter, then runs `spec.workers` concurrent callers that loop
 * acquire -> counter increment (+ hold) -> release on one key, stamping each step on the machine's
 * monotonic clock so the parent can line up acquisitions from all processes.
 */
import 'reflect-metadata';
import type {
  ContentionResult,
  ContentionRunSpec,
  ContentionTiming,
  ParentMessage,
  WorkerMessage,
} from './contention-protocol.js';
import { library } from './library-catalog.js';
import type { LockAdapter } from './lock-adapter.js';
import { monotonicMs, sleepUntil } from './monotonic-clock.js';
import { NonAtomicCounter } from './non-atomic-counter.js';
import { installRedisCommandCounter, redisCommandsSent } from './redis-command-counter.js';

installRedisCommandCounter();

let prepared: { spec: ContentionRunSpec; adapter: LockAdapter; counter: NonAtomicCounter } | undefined;

function send(message: WorkerMessage): void {
  process.send?.(message);
}

async function prepare(spec: ContentionRunSpec): Promise<void> {
  const created = await library(spec.library).create(spec.urls, spec.permits);
  if ('unavailable' in created) return send({ type: 'unavailable', reason: created.unavailable });
  // Warm up outside the measured key: connections open, scripts loaded, code paths compiled.
  for (let round = 0; round < 3; round++) {
    const release = await created.acquire(`${spec.key}:warmup:${spec.processIndex}`, spec.waitMs);
    await release();
  }
  prepared = { spec, adapter: created, counter: await NonAtomicCounter.open(spec.counterFile) };
  send({ type: 'ready' });
}

async function run(timing: ContentionTiming): Promise<void> {
  if (!prepared) throw new Error('start before prepare');
  const { spec, adapter, counter } = prepared;
  prepared = undefined;
  const keyCount = spec.keys ?? 1;
  const records: number[] = [];
  let errorCount = 0;
  const firstErrors: string[] = [];
  let sentAtFrom = 0;
  let sentAtTo = 0;
  const fromTimer = setTimeout(() => {
    sentAtFrom = redisCommandsSent();
  }, timing.measureFrom - monotonicMs());
  const toTimer = setTimeout(() => {
    sentAtTo = redisCommandsSent();
  }, timing.measureTo - monotonicMs());

  const worker = async (workerId: number) => {
    await sleepUntil(timing.startAt);
    while (monotonicMs() < timing.measureTo) {
      const wantAt = monotonicMs();
      let release: () => Promise<void>;
      try {
        release = await adapter.acquire(
          keyCount > 1 ? `${spec.key}:${Math.floor(Math.random() * keyCount)}` : spec.key,
          spec.waitMs,
        );
      } catch (error) {
        errorCount++;
        if (firstErrors.length < 3) firstErrors.push(error instanceof Error ? error.message : String(error));
        continue;
      }
      const gotAt = monotonicMs();
      // Over many keys, or with several permit holders at once, the shared counter would race by
      // design: hold without it.
      if (keyCount > 1 || spec.permits !== undefined)
        await new Promise((resolve) => setTimeout(resolve, spec.holdMs));
      else await counter.increment(spec.holdMs);
      const releaseAt = monotonicMs();
      records.push(workerId, wantAt, gotAt, releaseAt);
      try {
        await release();
      } catch (error) {
        errorCount++;
        if (firstErrors.length < 3) firstErrors.push(`release: ${String(error)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: spec.workers }, (_, index) => worker(spec.firstWorkerId + index)));
  clearTimeout(fromTimer);
  clearTimeout(toTimer);
  if (sentAtTo === 0) sentAtTo = redisCommandsSent();
  await counter.close();
  await adapter.close();
  const result: ContentionResult = { records, sentAtFrom, sentAtTo, errorCount, firstErrors };
  send({ type: 'result', result });
}

async function exit(): Promise<void> {
  await prepared?.adapter.close();
  // Not process.disconnect() inside a message handler: Node 20 can crash on pending IPC messages.
  process.exit(0);
}

process.on('message', (message: ParentMessage) => {
  const step =
    message.type === 'prepare'
      ? prepare(message.spec)
      : message.type === 'start'
        ? run(message.timing)
        : exit();
  step.catch((error: unknown) =>
    send({ type: 'failed', error: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
  );
});
