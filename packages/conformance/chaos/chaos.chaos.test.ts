// A bounded chaos run: 4 processes, several keys, each process through its own FaultyLink driven
// from here (latency spikes, pauses, resets), every write through one fenced register, every
// attempt recorded. Redis (spin and pub/sub mixed on the same keys, a private server restarted
// mid-run), then the shared locks on Redis (a semaphore and a read-write lock, the same faults and
// restart), then MySQL (the shared MariaDB). checkHistory / checkSharedHistory must find nothing.
// Replay a run with DLOCK_CHAOS_SEED=<seed printed below>.
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { checkHistory, FaultyLink, FencedRegisterServer, readHistory } from '@dlock/testing';
import { PrivateRedisServer } from '@dlock/testing/servers';
import { afterAll, describe, expect, it } from 'vitest';
import { startWorker } from '../src/process-workers.js';
import { seededRandom } from './seeded-random.js';
import { CHAOS_PERMITS } from './shared-attempt.js';
import { checkSharedHistory, sharedPeaks } from './shared-history-check.js';

const WORKER = fileURLToPath(new URL('./chaos-worker.ts', import.meta.url));
const module = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const SPIN = module('../../redis-spin/test/fault-kit/spin-fault-backend.ts');
const PUBSUB = module('../../redis-pubsub/test/fault-kit/pubsub-fault-backend.ts');
const MYSQL = module('../../mysql/test/fault-kit/mysql-fault-backend.ts');
const MYSQL_URL = process.env.MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';
const seed = Number(process.env.DLOCK_CHAOS_SEED ?? Math.floor(Math.random() * 1_000_000_000));
const PROCESSES = 4;
const COMMAND_TIMEOUT_MS = 1_000;
const dir = mkdtempSync(join(tmpdir(), 'dlock-chaos-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
console.log(`[chaos] seed ${seed} (replay: DLOCK_CHAOS_SEED=${seed} pnpm test:chaos)`);

interface ChaosRun {
  readonly label: string;
  readonly target: { readonly host: string; readonly port: number };
  readonly url: string;
  readonly modules: Record<string, string>;
  readonly durationMs: number;
  /** Called once, half way through. */
  readonly midway?: () => Promise<void>;
  /** `shared`: a semaphore and a read-write lock instead of exclusive locks (see chaos-worker.ts). */
  readonly workload?: 'mutex' | 'shared';
}

async function runChaos(run: ChaosRun) {
  const random = seededRandom(seed + run.label.length);
  const runId = randomUUID().slice(0, 8);
  const shared = run.workload === 'shared';
  const keys = shared
    ? [`chaos:${runId}:semaphore`, `chaos:${runId}:rw`]
    : Array.from({ length: 3 }, (_, index) => `chaos:${runId}:key-${index}`);
  const register = await FencedRegisterServer.start();
  const links = await Promise.all(
    Array.from({ length: PROCESSES }, () =>
      FaultyLink.start({ target: run.target, latency: { upMs: 1, downMs: 1 } }),
    ),
  );
  const files = links.map((_, index) => join(dir, `${run.label}-${index}.jsonl`));
  const startedAt = Date.now();
  const endAt = startedAt + run.durationMs;
  const workers = links.map((link, index) =>
    startWorker({
      script: WORKER,
      timeoutMs: run.durationMs + 60_000,
      env: {
        PROCESS_NAME: `${run.label}-${index}`,
        SEED: String(seed * 10 + index),
        KEYS: JSON.stringify(keys),
        BACKEND_MODULES: JSON.stringify(run.modules),
        STORE_URL: link.url(run.url),
        KEY_PREFIX: `chaos:${runId}:`,
        END_AT: String(endAt),
        COMMAND_TIMEOUT_MS: String(COMMAND_TIMEOUT_MS),
        HISTORY_FILE: files[index]!,
        REGISTER_PORT: String(register.port),
        WORKLOAD: run.workload ?? 'mutex',
      },
    }),
  );
  const faults: Record<string, number> = { latency: 0, pause: 0, reset: 0, restart: 0 };
  let midwayDone = run.midway === undefined;
  try {
    while (Date.now() < endAt - 1_500) {
      await sleep(random.between(200, 700));
      if (!midwayDone && Date.now() > startedAt + run.durationMs / 2) {
        midwayDone = true;
        faults.restart!++;
        await run.midway!();
        continue;
      }
      const link = random.pick(links);
      const fault = random.pick(['latency', 'latency', 'pause', 'reset'] as const);
      faults[fault]!++;
      if (fault === 'latency') {
        link.setLatency({ upMs: random.between(10, 120), downMs: random.between(10, 120), jitterMs: 10 });
        setTimeout(() => link.setLatency({ upMs: 1, downMs: 1 }), random.between(300, 1_500)).unref();
      } else if (fault === 'pause') {
        link.pause();
        setTimeout(() => link.resume(), random.between(200, 1_500)).unref();
      } else {
        link.reset();
      }
    }
    for (const link of links) {
      link.resume();
      link.setLatency({});
    }
    const exits = await Promise.all(workers.map((worker) => worker.exited));
    for (const exit of exits) expect(exit.code, `stdout:\n${exit.stdout}\nstderr:\n${exit.stderr}`).toBe(0);
    const history = readHistory(files.filter((file) => existsSync(file)));
    const checkOptions = {
      commandTimeoutMs: COMMAND_TIMEOUT_MS,
      graceMs: 2_000,
      register: register.register,
    };
    const violations = shared
      ? checkSharedHistory(history, { ...checkOptions, permits: CHAOS_PERMITS })
      : checkHistory(history, checkOptions).map((violation) => violation.message);
    const outcomes: Record<string, number> = {};
    for (const record of history) outcomes[record.outcome] = (outcomes[record.outcome] ?? 0) + 1;
    const writes = register.register.writes;
    console.log(
      `[chaos] ${run.label} seed ${seed}: ${history.length} attempts ${JSON.stringify(outcomes)}, ` +
        `${writes.length} writes (${writes.filter((write) => !write.accepted).length} stale refused), ` +
        `faults ${JSON.stringify(faults)}, ${violations.length} violations` +
        (shared ? `, peaks ${JSON.stringify(sharedPeaks(history))} (permits ${CHAOS_PERMITS})` : ''),
    );
    expect(violations).toEqual([]);
    expect(outcomes.ok ?? 0).toBeGreaterThan(20);
  } finally {
    for (const worker of workers) worker.kill('SIGKILL');
    await settleWithin('closing the faulty links', Promise.all(links.map((link) => link.close())));
    await settleWithin('closing the fenced register', register.close());
  }
}

/**
 * Tear-down of the test's own tools, bounded: once the history has been checked, a tool that is
 * slow to close must not turn a passed run into a timeout. Says which one was slow.
 */
async function settleWithin(what: string, work: Promise<unknown>, ms = 15_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  const outcome = await Promise.race([work.then(() => 'done' as const), timedOut]);
  clearTimeout(timer);
  if (outcome === 'timeout') console.warn(`[chaos] ${what} took over ${ms} ms; moving on`);
}

describe.sequential(`chaos (seed ${seed})`, () => {
  it('redis: spin and pub/sub mixed, 4 processes through faulty links, a private Redis restarted mid-run', async () => {
    const server = await PrivateRedisServer.start();
    try {
      await runChaos({
        label: 'redis',
        target: { host: '127.0.0.1', port: server.port },
        url: server.url,
        modules: { spin: SPIN, pubsub: PUBSUB },
        durationMs: 30_000,
        midway: () => server.restart(),
      });
    } finally {
      await settleWithin('stopping the private Redis', server.stop());
    }
  });

  it('redis shared locks: a 3-permit semaphore and a read-write lock, spin and pub/sub mixed, Redis restarted mid-run', async () => {
    const server = await PrivateRedisServer.start();
    try {
      await runChaos({
        label: 'redis-shared',
        target: { host: '127.0.0.1', port: server.port },
        url: server.url,
        modules: { spin: SPIN, pubsub: PUBSUB },
        durationMs: 20_000,
        midway: () => server.restart(),
        workload: 'shared',
      });
    } finally {
      await settleWithin('stopping the private Redis', server.stop());
    }
  });

  it('mysql: 4 processes through faulty links to the shared MariaDB', async () => {
    const mysql = new URL(MYSQL_URL);
    await runChaos({
      label: 'mysql',
      target: { host: mysql.hostname, port: Number(mysql.port || 3306) },
      url: MYSQL_URL,
      modules: { mysql: MYSQL },
      durationMs: 20_000,
    });
  });
});
