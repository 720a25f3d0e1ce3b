import { EventEmitter } from 'node:events';
import { assertFunction, settle } from './call-guards.js';
import { InvalidLockKeyError, InvalidLockOptionsError, LockBackendError } from './errors.js';
import { HeldLockRegistry } from './held-lock-registry.js';
import { LagGuard } from './lag-guard.js';
import { LocalKeyQueue } from './local-key-queue.js';
import { LockAcquirer } from './lock-acquirer.js';
import { type LockCallPlan, LockPlanner } from './lock-call-plan.js';
import {
  emitSafely,
  type LockEventListening,
  type LockEventSink,
  type LockManagerEvents,
} from './lock-events.js';
import { type LockHandle } from './lock-handle.js';
import {
  type ForceReleaseOptions,
  type ForceReleaseResult,
  type InspectOptions,
  type ListLocksOptions,
  type LockInspection,
  processLockOwner,
} from './lock-inspection.js';
import { LockInspector } from './lock-inspector.js';
import { type LockManagerOptions, resolveManagerOptions } from './lock-manager-options.js';
import type {
  AcquireOptions,
  AcquireSemaphoreOptions,
  CallLockOptions,
  CallSemaphoreOptions,
} from './lock-options.js';
import { LockReleaser } from './lock-releaser.js';
import { type LockScope, LockScopeRunner, type TryLockResult } from './lock-scope-runner.js';

const MANAGER_CLOSED_REASON = 'the lock manager was closed';

/**
 * Takes, renews and releases locks through named backends. One instance per process (per app);
 * it queues callers of this process for the same key so that only one of them talks to the store.
 *
 * @example
 * const manager = new LockManager({ backends: { spin, pubsub } });
 * await manager.withLock('stock:42', { retry: { waitMs: 5_000 } }, async () => {
 *   await decreaseStock(42);
 * });
 */
export class LockManager<B extends string = string> extends EventEmitter<LockManagerEvents> {
  readonly #planner: LockPlanner;
  readonly #registry: HeldLockRegistry;
  readonly #releaser: LockReleaser;
  readonly #acquirer: LockAcquirer;
  readonly #runner: LockScopeRunner;
  readonly #inspector: LockInspector;
  #closed: Promise<void> | undefined;

  constructor(options: LockManagerOptions<B>) {
    super();
    if (options === null || typeof options !== 'object') {
      throw new InvalidLockOptionsError('new LockManager(options): options must be an object with backends.');
    }
    this.#planner = new LockPlanner({
      backends: options.backends,
      route: options.route,
      defaults: options.defaults,
    });
    const { keyPrefix, lagAlarmShare, appName } = resolveManagerOptions(options);
    const emit: LockEventSink = (event, ...args) => emitSafely(this, event, ...args);
    const listening: LockEventListening = (event) => this.listenerCount(event) > 0;
    const localQueue = new LocalKeyQueue();
    const lagGuard = new LagGuard({ locks: () => this.#registry.locks, emit, alarmShare: lagAlarmShare });
    this.#registry = new HeldLockRegistry(localQueue, emit, (count) => lagGuard.watch(count));
    this.#releaser = new LockReleaser(this.#registry, emit, listening);
    this.#inspector = new LockInspector(new Map(Object.entries(options.backends)), keyPrefix);
    this.#acquirer = new LockAcquirer({
      owner: this,
      lockOwner: processLockOwner(appName),
      keyPrefix,
      localQueue,
      registry: this.#registry,
      releaser: this.#releaser,
      emit,
      listening,
    });
    this.#runner = new LockScopeRunner({
      acquirer: this.#acquirer,
      releaser: this.#releaser,
      registry: this.#registry,
      emit,
    });
  }

  /** Backend names this manager knows. */
  get backendNames(): readonly B[] {
    return this.#planner.backendNames as readonly B[];
  }

  /**
   * Throw `InvalidLockOptionsError` unless this manager has a backend called `name`. The decorator
   * uses it to fail at decoration time for a misspelled backend.
   *
   * @example
   * manager.assertBackend('pubsub');
   */
  assertBackend(name: string): asserts name is B {
    this.#planner.assertBackend(name);
  }

  /**
   * Run `fn` while holding every key. Several keys are taken in sorted order (so `[a, b]` and
   * `[b, a]` cannot deadlock) and released in reverse. The lease is renewed while `fn` runs.
   *
   * @throws LockNotAcquiredError without `retry`, if a key is held elsewhere.
   * @throws LockTimeoutError if `retry.waitMs` passes first.
   * @throws LockLostError after `fn` settles, if a lock was lost meanwhile (`scope.signal` aborted at the loss).
   * @example
   * await manager.withLock(['stock:1', 'stock:2'], { retry: { waitMs: 5_000 } }, async (scope) => {
   *   await moveStock(1, 2, { fence: scope.locks[0]?.fencingToken, signal: scope.signal });
   * });
   */
  withLock<T>(
    keys: string | readonly string[],
    options: CallLockOptions<B>,
    fn: (scope: LockScope) => Promise<T> | T,
  ): Promise<T> {
    return settle(() => {
      assertFunction(fn, 'withLock');
      return this.#runner.run(this.#plan(keys, options), fn);
    });
  }

  /**
   * Like {@link withLock}, but a lock that stays taken is an answer, not an error: resolves to
   * `{ acquired: false }` (and emits `skipped`) when a try-once call finds a key held or a wait
   * runs out. Every other failure still rejects. The tool for "run once across replicas" jobs.
   *
   * @example
   * const run = await manager.tryWithLock('job:nightly-report', { holdAtLeastMs: 30_000 }, buildReport);
   * if (!run.acquired) logger.info('another replica runs the nightly report');
   */
  tryWithLock<T>(
    keys: string | readonly string[],
    options: CallLockOptions<B>,
    fn: (scope: LockScope) => Promise<T> | T,
  ): Promise<TryLockResult<T>> {
    return settle(() => {
      assertFunction(fn, 'tryWithLock');
      return this.#runner.tryRun(this.#plan(keys, options), fn);
    });
  }

  /**
   * Run `fn` while holding one of `permits` permits of the semaphore `key`: at most `permits`
   * callers of the key run at once across every process. Waiters are served first come, first
   * served; each holder has its own lease, renewed while `fn` runs, so a crashed holder's permit
   * comes back when its lease ends. A semaphore key is its own namespace (a semaphore and a lock
   * of the same key are unrelated).
   *
   * @throws LockNotAcquiredError without `retry`, if every permit is taken.
   * @throws LockTimeoutError if `retry.waitMs` passes first.
   * @throws SemaphorePermitsMismatchError if the key is in use with other `permits`.
   * @throws LockKindUnsupportedError if the backend has no semaphores (MySQL).
   * @example
   * await manager.withSemaphore('payments', { permits: 3, retry: { waitMs: 10_000 } }, async (scope) => {
   *   await authorise(payment, { signal: scope.signal });
   * });
   */
  withSemaphore<T>(
    key: string,
    options: CallSemaphoreOptions<B>,
    fn: (scope: LockScope) => Promise<T> | T,
  ): Promise<T> {
    return settle(() => {
      assertFunction(fn, 'withSemaphore');
      return this.#runner.run(this.#planSemaphore(key, options), fn);
    });
  }

  /**
   * Like {@link withSemaphore}, but no free permit is an answer, not an error: resolves to
   * `{ acquired: false }` (and emits `skipped`) when every permit stays taken.
   *
   * @example
   * const run = await manager.tryWithSemaphore('exports:tenant-7', { permits: 2 }, runExport);
   * if (!run.acquired) response.status(429).end();
   */
  tryWithSemaphore<T>(
    key: string,
    options: CallSemaphoreOptions<B>,
    fn: (scope: LockScope) => Promise<T> | T,
  ): Promise<TryLockResult<T>> {
    return settle(() => {
      assertFunction(fn, 'tryWithSemaphore');
      return this.#runner.tryRun(this.#planSemaphore(key, options), fn);
    });
  }

  /**
   * Take one permit of the semaphore `key` and return a handle (`release`, `extend`, `signal`,
   * `fencingToken`), as {@link acquire} does for a lock: the lease is renewed only with `autoRenew`.
   *
   * @example
   * const permit = await manager.acquireSemaphore('reports', { permits: 4, retry: true, autoRenew: true });
   * try { await buildReport(permit.signal); } finally { await permit.release(); }
   */
  acquireSemaphore(key: string, options: AcquireSemaphoreOptions<B>): Promise<LockHandle> {
    return settle(() => this.#runner.handle(this.#planSemaphore(key, options), options?.autoRenew === true));
  }

  /**
   * Take one lock and return a handle. Unlike `withLock`, the lease is NOT renewed unless
   * `autoRenew: true`, so a forgotten handle expires; `handle.extend()` renews by hand.
   *
   * @example
   * const lock = await manager.acquire('report:daily', { leaseMs: 60_000 });
   * try { await buildReport(lock.signal); } finally { await lock.release(); }
   */
  acquire(key: string, options: AcquireOptions<B> = {}): Promise<LockHandle> {
    // settle() inlined: no closure per call.
    try {
      if (Array.isArray(key))
        throw new InvalidLockKeyError('acquire() takes one key; use withLock() for several.');
      return this.#runner.handle(this.#plan(key, options), options?.autoRenew === true);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * What the store knows about `key` right now: whether it is held, by whom (host, pid, app name,
   * label, since when), the remaining lease, the fencing token and how many callers wait. Asks the
   * backend's optional `inspect` capability (every bundled backend has one).
   *
   * @throws LockInspectionUnsupportedError if the backend cannot inspect.
   * @example
   * const lock = await manager.inspect('stock:42');
   * if (lock.held) console.log(`${lock.owner?.label} on ${lock.owner?.host}, ${lock.waiters} waiting`);
   */
  inspect(key: string, options: InspectOptions<B> = {}): Promise<LockInspection> {
    return this.#inspector.inspect(key, options);
  }

  /**
   * The locks held now whose key starts with `prefix`, sorted by key, at most `limit` (default
   * 100). Bounded: Redis reads with `SCAN`, never `KEYS`; MySQL cannot list (inspect a key instead).
   *
   * @throws LockInspectionUnsupportedError if the backend cannot list.
   * @example
   * for (const lock of await manager.list({ prefix: 'stock:', limit: 50 })) console.log(lock.key, lock.owner?.pid);
   */
  list(options: ListLocksOptions<B> = {}): Promise<LockInspection[]> {
    return this.#inspector.list(options);
  }

  /**
   * An operator's break-glass: free `key` whoever holds it. The holder finds out at its next
   * renewal (`lost`), and the next holder gets a greater fencing token, so a fenced resource
   * rejects the old holder's writes once the new holder has written. Not for application logic.
   *
   * @throws LockInspectionUnsupportedError if the backend cannot force a release.
   * @example
   * const { released, previousOwner } = await manager.forceRelease('stock:42');
   */
  forceRelease(key: string, options: ForceReleaseOptions<B> = {}): Promise<ForceReleaseResult> {
    return this.#inspector.forceRelease(key, options);
  }

  /**
   * Stop taking locks: waiting callers are aborted, locks still held are released (their signals
   * abort and their scopes reject with `LockLostError`), and every backend is closed.
   * Call it on shutdown after the server stopped accepting requests.
   *
   * @example
   * process.once('SIGTERM', () => void server.close(() => manager.close()));
   */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      this.#acquirer.abortAll(new LockBackendError('The lock manager is closed.', { isRetryable: false }));
      const held = this.#registry.snapshot();
      for (const lock of held) if (lock.markLost(MANAGER_CLOSED_REASON)) this.#registry.reportLost(lock);
      // In parallel: on a silent network each release waits its backend's command timeout, and
      // shutdown must not take that once per held lock.
      await Promise.all(held.map((lock) => this.#releaser.release(lock, { honorHold: false })));
      await Promise.allSettled([...this.#planner.backends].map((backend) => backend.close()));
    })();
    return this.#closed;
  }

  #plan(keys: string | readonly string[], options: CallLockOptions<B>): LockCallPlan {
    if (this.#closed) throw new LockBackendError('The lock manager is closed.', { isRetryable: false });
    return this.#planner.plan(keys, options);
  }

  #planSemaphore(key: string, options: CallSemaphoreOptions<B>): LockCallPlan {
    if (this.#closed) throw new LockBackendError('The lock manager is closed.', { isRetryable: false });
    if (options === null || typeof options !== 'object') {
      throw new InvalidLockOptionsError('Semaphore options must be an object with permits: { permits: 3 }.');
    }
    if ('mode' in options && (options as { mode?: unknown }).mode !== undefined) {
      throw new InvalidLockOptionsError('A semaphore has no mode: leave mode out of semaphore options.');
    }
    return this.#planner.plan(key, options, { permits: options.permits });
  }
}
