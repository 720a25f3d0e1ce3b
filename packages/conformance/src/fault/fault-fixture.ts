import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { type CallLockOptions, LockManager } from '@dlock/core';
import {
  checkHistory,
  FaultyLink,
  FencedRegister,
  HistoryRecorder,
  type LockHistoryRecord,
  readHistory,
} from '@dlock/testing';
import { afterAll, afterEach } from 'vitest';
import { type RunningWorker, startWorker } from '../process-workers.js';
import { type FaultBackendHandle, type FaultBackendOptions, loadFaultBackend } from './fault-backend.js';
import { FaultTimings } from './fault-timings.js';

const WORKER = fileURLToPath(new URL('./fault-worker.ts', import.meta.url));

/** A lease short enough to run out during a test, long enough for a slow round trip. */
export const LEASE_MS = 800;
/** How long a frozen holder stays frozen: well past its lease. */
export const FREEZE_MS = Math.round(LEASE_MS * 2.5);

/** Default ports of the stores the scenarios know, for a store URL that names none. */
const DEFAULT_PORTS: Readonly<Record<string, number>> = { 'redis:': 6379, 'mysql:': 3306 };

export interface FaultScenarioOptions {
  /** Shown in the test names and the printed figures. */
  readonly name: string;
  /**
   * The backend's fault-kit module, which exports `createFaultBackend`: an absolute path, or a
   * `file:` URL such as `new URL('./spin-fault-backend.ts', import.meta.url)`.
   */
  readonly backendModule: string | URL;
  /**
   * Client URL of the shared store, e.g. `redis://127.0.0.1:6379` or
   * `mysql://root@127.0.0.1:3306/test`; a `FaultyLink` goes in front of its host and port. Without
   * one (the in-memory backend), only the scenarios that need no network run, and the module is
   * asked for a slow backend with the URL `memory://slow`.
   */
  readonly storeUrl?: string;
  /** The backend's default `commandTimeoutMs`: the bound for a reply that never comes. */
  readonly commandTimeoutMs: number;
  /**
   * The lock lives as long as the holder's session (MySQL `GET_LOCK`): a frozen holder keeps it
   * until its process runs again and lets it go, instead of losing it to the next caller.
   */
  readonly sessionBound?: boolean;
  /** Pub/sub handoff settings: runs the lost-handoff-message and dead-waiter scenarios. */
  readonly handoff?: { readonly handoffLeaseMs: number; readonly maxSleepMs: number };
  /**
   * Scenarios this backend is known to fail, by scenario id, with the reason: they run as
   * `it.fails`, so the suite stays green while the bug is open and turns red once it is fixed.
   */
  readonly knownFailures?: Partial<Record<FaultScenarioId, string>>;
}

/** Scenarios that `knownFailures` can name. */
export type FaultScenarioId = 'reply-dropped';

/** Where the shared store listens, for a `FaultyLink` in front of it. */
interface FaultStore {
  readonly url: string;
  readonly host: string;
  readonly port: number;
}

interface OpenedBackend {
  readonly handle: FaultBackendHandle;
  readonly manager: LockManager;
}

/** Recorders of one scenario's processes and the check of everything they recorded. */
interface ScenarioHistory {
  recorder(process: string): HistoryRecorder;
  /** The history file of a process the scenario starts (a worker records into it). */
  file(process: string): string;
  /**
   * `process` takes `key` through `manager` (recorded, waiting as `lockOptions.retry` says) and
   * writes its fencing token to `register` while it holds it: the plain move of most scenarios.
   */
  takeAndWrite(
    process: string,
    manager: LockManager,
    key: string,
    register: FencedRegister,
    lockOptions?: CallLockOptions,
  ): Promise<LockHistoryRecord>;
  /** What `checkHistory` finds wrong with the recorded attempts, as messages. */
  violations(register: { writes: FencedRegister['writes'] }, commandTimeoutMs?: number): string[];
}

/** What every scenario group gets: backends, links, workers and histories cleaned up after each test. */
export interface FaultFixture {
  readonly options: FaultScenarioOptions;
  /** The store, when the backend has one over the network. */
  readonly store: FaultStore | undefined;
  readonly timings: FaultTimings;
  readonly keyPrefix: string;
  readonly backendModule: string;
  /** Run after the current test, last registered first. */
  cleanup(step: () => Promise<unknown> | unknown): void;
  freshKey(label: string): string;
  open(url: string, backendOptions?: Partial<FaultBackendOptions>): Promise<OpenedBackend>;
  /** A backend talking to the store directly. */
  direct(backendOptions?: Partial<FaultBackendOptions>): Promise<OpenedBackend>;
  /** A `FaultyLink` in front of the store. */
  link(latency?: { upMs: number; downMs: number; jitterMs?: number }): Promise<FaultyLink>;
  /** A backend whose every connection goes through `through`; its connections are warm. */
  behind(through: FaultyLink, backendOptions?: Partial<FaultBackendOptions>): Promise<OpenedBackend>;
  history(label: string): ScenarioHistory;
  /** What most scenarios start with: a fresh key, an empty fenced register and a history, all named `label`. */
  scenario(label: string): { key: string; register: FencedRegister; h: ScenarioHistory };
  /** A try-once attempt by a fresh manager: did it get the key? (It lets go at once.) */
  takenOnce(manager: LockManager, key: string): Promise<boolean>;
  /** A fault worker process (`fault-worker.ts`) with the backend module, store and prefix set. */
  worker(env: Record<string, string>): RunningWorker;
}

/** The wait a history record notes for `options`, as the scenarios set it (`retry: { waitMs }`). */
function waitMsOf(options: CallLockOptions): number | undefined {
  return typeof options.retry === 'object' ? options.retry.waitMs : undefined;
}

function storeOf(url: string | undefined): FaultStore | undefined {
  if (url === undefined) return undefined;
  const parsed = new URL(url);
  return { url, host: parsed.hostname, port: Number(parsed.port || DEFAULT_PORTS[parsed.protocol]) };
}

/**
 * Everything the scenario groups share, with the hooks that clean it up: call it once per
 * `runFaultScenarios`, at the level of the test file.
 */
export function createFaultFixture(options: FaultScenarioOptions): FaultFixture {
  const store = storeOf(options.storeUrl);
  const backendModule =
    typeof options.backendModule === 'string' ? options.backendModule : fileURLToPath(options.backendModule);
  const runId = randomUUID().slice(0, 8);
  const keyPrefix = `fault-kit:${runId}:`;
  const dir = mkdtempSync(join(tmpdir(), 'dlock-fault-'));
  const timings = new FaultTimings(options.name);
  const cleanups: (() => Promise<unknown> | unknown)[] = [];
  let keyCounter = 0;

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse())
      await Promise.resolve(cleanup()).catch(() => undefined);
  });
  afterAll(() => {
    timings.print();
    rmSync(dir, { recursive: true, force: true });
  });

  async function open(
    url: string,
    backendOptions: Partial<FaultBackendOptions> = {},
  ): Promise<OpenedBackend> {
    const create = await loadFaultBackend(backendModule);
    const handle = await create(url, { keyPrefix, ...backendOptions });
    const manager = new LockManager({ backends: { main: handle.backend } });
    cleanups.push(async () => {
      await Promise.race([manager.close(), sleep(3_000)]);
      await Promise.race([handle.close(), sleep(3_000)]);
    });
    return { handle, manager };
  }
  const fixture: FaultFixture = {
    options,
    store,
    timings,
    keyPrefix,
    backendModule,
    cleanup: (step) => cleanups.push(step),
    freshKey: (label) => `${label}:${++keyCounter}`,
    open,
    direct: (backendOptions = {}) => open(store!.url, backendOptions),
    async link(latency) {
      const started = await FaultyLink.start({ target: { host: store!.host, port: store!.port }, latency });
      cleanups.push(() => started.close());
      cleanups.push(() => started.resume());
      return started;
    },
    async behind(through, backendOptions = {}) {
      const opened = await open(through.url(store!.url), backendOptions);
      await (await opened.manager.acquire(fixture.freshKey('warm'))).release();
      // Let background work the warm-up started (MySQL prunes its fencing table on another pooled
      // connection) finish, so a fault armed next hits the call under test, not that work.
      await sleep(300);
      return opened;
    },
    history(label) {
      const files: string[] = [];
      const file = (process: string) => {
        const path = join(dir, `${label}-${keyCounter}-${process}.jsonl`);
        files.push(path);
        return path;
      };
      const recorder = (process: string) => new HistoryRecorder(file(process), { process });
      return {
        recorder,
        file,
        takeAndWrite: (process, manager, key, register, lockOptions = {}) =>
          recorder(process).attempt({ key, waitMs: waitMsOf(lockOptions) }, (attempt) =>
            manager.withLock(key, lockOptions, async (scope) => {
              attempt.acquired(scope.locks[0]!.fencingToken);
              await register.write(key, scope.locks[0]!.fencingToken ?? 0, process);
            }),
          ),
        violations: (register, commandTimeoutMs = options.commandTimeoutMs) =>
          checkHistory(readHistory(files.filter((path) => existsSync(path))), {
            commandTimeoutMs,
            graceMs: 1_000,
            register,
          }).map((violation) => violation.message),
      };
    },
    scenario: (label) => ({
      key: fixture.freshKey(label),
      register: new FencedRegister(),
      h: fixture.history(label),
    }),
    async takenOnce(manager, key) {
      const result = await manager.tryWithLock(key, {}, () => undefined);
      return result.acquired;
    },
    worker(env) {
      const running = startWorker({
        script: WORKER,
        timeoutMs: 60_000,
        env: { FAULT_BACKEND_MODULE: backendModule, STORE_URL: store!.url, KEY_PREFIX: keyPrefix, ...env },
      });
      cleanups.push(() => {
        running.kill('SIGCONT');
        running.kill('SIGKILL');
      });
      return running;
    },
  };
  return fixture;
}
