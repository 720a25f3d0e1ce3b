// Child process of the fault scenarios. Builds its backend with the module named by
// FAULT_BACKEND_MODULE, records its attempts with a HistoryRecorder and writes through the
// parent's FencedRegisterServer. Modes (MODE):
//   hold: take KEY (try-once, LEASE_MS), write, print "holding <token>", then be frozen (SIGSTOP
//         from the parent, or BLOCK_MS of busy loop here), then wait for the loss, write again
//         (stale) and print "verdict <json>"; linger LINGER_MS (renewal timers would fire), exit.
//   wait: wait for KEY (WAIT_MS), print "queued" once the backend waits, hold it HOLD_MS, exit.
import { setTimeout as sleep } from 'node:timers/promises';
import { LockManager } from '@dlock/core';
import { FencedRegisterClient, HistoryRecorder } from '@dlock/testing';
import { loadFaultBackend } from './fault-backend.js';

const env = (name: string, fallback?: string): string => {
  const value = process.env[name] ?? fallback;
  if (value === undefined) throw new Error(`fault worker: ${name} is not set`);
  return value;
};
const key = env('KEY');
const processName = env('PROCESS_NAME', `worker-${process.pid}`);
const leaseMs = Number(env('LEASE_MS', '30000'));
const createFaultBackend = await loadFaultBackend(env('FAULT_BACKEND_MODULE'));
const handle = await createFaultBackend(env('STORE_URL'), { keyPrefix: env('KEY_PREFIX') });
const manager = new LockManager({ backends: { main: handle.backend } });
const recorder = new HistoryRecorder(env('HISTORY_FILE'), { process: processName });
const register = new FencedRegisterClient(Number(env('REGISTER_PORT')));

/** Resolves once two 20 ms ticks are more than `gapMs` apart: the process was frozen and is back. */
async function untilFrozenAndBack(since: number, gapMs: number, withinMs: number): Promise<number> {
  let last = since;
  const end = last + withinMs;
  while (Date.now() < end) {
    await sleep(20);
    const now = Date.now();
    if (now - last > gapMs) return now;
    last = now;
  }
  throw new Error(`fault worker: not frozen within ${withinMs} ms`);
}

function abortedWithin(signal: AbortSignal, ms: number): Promise<number | undefined> {
  if (signal.aborted) return Promise.resolve(Date.now());
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve(Date.now());
      },
      { once: true },
    );
  });
}

async function hold(): Promise<void> {
  const blockMs = Number(env('BLOCK_MS', '0'));
  let verdict: Record<string, unknown> = {};
  const record = await recorder.attempt({ key, waitMs: 0, faultInjected: false }, (attempt) =>
    manager.withLock(key, { leaseMs }, async (scope) => {
      const token = scope.locks[0]!.fencingToken ?? 0;
      attempt.acquired(token);
      const first = await register.write(key, token, `${processName}:before`);
      // Measured before the line is printed: the parent may freeze us right after it.
      const printedAt = Date.now();
      console.log(`holding ${token} ${printedAt}`);
      let resumedAt: number;
      if (blockMs > 0) {
        // The event loop is stuck: no renewal, no expiry timer, no I/O until this ends.
        const end = Date.now() + blockMs;
        while (Date.now() < end) {
          // busy
        }
        resumedAt = Date.now();
      } else {
        resumedAt = await untilFrozenAndBack(printedAt, leaseMs / 2, 60_000);
      }
      const abortedAt = await abortedWithin(scope.signal, 5_000);
      // A holder that ignores its signal and writes anyway: the fenced register must refuse it.
      const stale = await register.write(key, token, `${processName}:after-freeze`);
      attempt.released();
      verdict = { token, firstAccepted: first.accepted, resumedAt, abortedAt, stale };
    }),
  );
  console.log(
    `verdict ${JSON.stringify({ ...verdict, outcome: record.outcome, errorName: record.errorName, settledAt: Date.now() })}`,
  );
  await sleep(Number(env('LINGER_MS', '0')));
}

async function wait(): Promise<void> {
  const waitMs = Number(env('WAIT_MS', '30000'));
  manager.once('contended', () => console.log('queued'));
  await recorder.attempt({ key, waitMs }, (attempt) =>
    manager.withLock(key, { leaseMs, retry: { waitMs } }, async (scope) => {
      const token = scope.locks[0]!.fencingToken ?? 0;
      attempt.acquired(token);
      await register.write(key, token, processName);
      console.log(`acquired ${token}`);
      await sleep(Number(env('HOLD_MS', '0')));
    }),
  );
}

const mode = env('MODE');
if (mode === 'hold') await hold();
else if (mode === 'wait') await wait();
else throw new Error(`fault worker: unknown MODE ${mode}`);
// Bounded: the register client does not keep the process alive on its own, and a store that
// stopped answering must not keep a finished worker from exiting.
const bounded = (promise: Promise<unknown>) => Promise.race([promise.catch(() => undefined), sleep(2_000)]);
await bounded(manager.close());
await bounded(handle.close());
await bounded(register.close());
console.log('exiting');
process.exit(0);
