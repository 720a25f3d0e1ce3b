// One chaos process: until END_AT, takes random keys with random waits and leases through the
// backends named in BACKEND_MODULES (JSON name -> fault-kit module), all over STORE_URL (its own
// FaultyLink, driven by the parent). Every attempt is recorded in HISTORY_FILE. Seeded by SEED.
// WORKLOAD=mutex (default): one loop of exclusive locks on KEYS, every critical section writing
// through the parent's fenced register. WORKLOAD=shared: LOOPS concurrent loops on KEYS = [semaphore
// key, read-write key] (see shared-attempt.ts); only writers write through the register.
import { setTimeout as sleep } from 'node:timers/promises';
import { type LockBackend, LockManager } from '@dlock/core';
import { FencedRegisterClient, HistoryRecorder } from '@dlock/testing';
import { type FaultBackendHandle, loadFaultBackend } from '../src/fault/fault-backend.js';
import { seededRandom } from './seeded-random.js';
import { sharedAttempt } from './shared-attempt.js';

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`chaos worker: ${name} is not set`);
  return value;
};
const name = env('PROCESS_NAME');
const random = seededRandom(Number(env('SEED')));
const keys: string[] = JSON.parse(env('KEYS'));
const modules: Record<string, string> = JSON.parse(env('BACKEND_MODULES'));
const endAt = Number(env('END_AT'));
const commandTimeoutMs = Number(env('COMMAND_TIMEOUT_MS'));
const shared = process.env.WORKLOAD === 'shared';
const loops = shared ? Number(process.env.LOOPS ?? 2) : 1;

const handles: FaultBackendHandle[] = [];
const backends: Record<string, LockBackend> = {};
for (const [backendName, modulePath] of Object.entries(modules)) {
  const create = await loadFaultBackend(modulePath);
  const handle = await create(env('STORE_URL'), { keyPrefix: env('KEY_PREFIX'), commandTimeoutMs });
  handles.push(handle);
  backends[backendName] = handle.backend;
}
const backendNames = Object.keys(backends);
const manager = new LockManager({ backends });
const recorder = new HistoryRecorder(env('HISTORY_FILE'), { process: name });
const register = new FencedRegisterClient(Number(env('REGISTER_PORT')));

let attempts = 0;
async function mutexAttempt(): Promise<void> {
  const key = random.pick(keys);
  const waitMs = random.pick([0, 0, 300, 1_000, 2_000]);
  const leaseMs = random.pick([500, 1_000, 3_000]);
  const backend = random.pick(backendNames);
  const workMs = random.between(2, 60);
  await recorder.attempt({ key, waitMs }, (attempt) =>
    manager.withLock(key, { backend, leaseMs, retry: waitMs > 0 ? { waitMs } : false }, async (scope) => {
      const token = scope.locks[0]!.fencingToken ?? 0;
      attempt.acquired(token);
      // Written even after a loss: the register, not the holder's good manners, keeps it safe.
      await register.write(key, token, `${name}:start`);
      await sleep(workMs);
      await register.write(key, token, `${name}:end`);
      attempt.released();
    }),
  );
}
// Several loops per process in the shared workload: a process's permit holders and readers are not
// queued behind each other locally, so each loop is one more holder or waiter in the store.
await Promise.all(
  Array.from({ length: loops }, async () => {
    while (Date.now() < endAt) {
      attempts++;
      if (shared) {
        const [semaphoreKey, rwKey] = keys as [string, string];
        await sharedAttempt({ manager, recorder, register, random, backendNames, semaphoreKey, rwKey, name });
      } else await mutexAttempt();
      await sleep(random.between(0, 20));
    }
  }),
);
const bounded = (promise: Promise<unknown>) => Promise.race([promise.catch(() => undefined), sleep(3_000)]);
await bounded(manager.close());
for (const handle of handles) await bounded(handle.close());
await bounded(register.close());
console.log(`done ${attempts}`);
process.exit(0);
