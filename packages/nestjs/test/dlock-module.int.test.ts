import 'reflect-metadata';
import {
  currentLock,
  DistributedLock,
  getDefaultLockManager,
  InvalidLockOptionsError,
  LockManager,
  type LockSkippedEvent,
  MemoryLockBackend,
  setDefaultLockManager,
} from '@dlock/core';
import { Inject, Injectable, Module } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import type { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { DlockModule, type DlockModuleOptions, InjectLockManager } from '../src/index.js';
import {
  createGate,
  newRedisClient,
  outsideManager,
  redisBackends,
  testPrefix,
} from './support/redis-backends.js';

@Injectable()
class ReportJob {
  runs = 0;
  /** Runs inside the critical section, where `currentLock()` sees the held lock. */
  during: (() => Promise<void>) | undefined;
  seenBackend: string | undefined;

  // No `manager`: the default one, looked up at call time, i.e. the one of the live application.
  @DistributedLock({ key: 'job:report', onLocked: 'skip' })
  async run(): Promise<number | undefined> {
    this.runs += 1;
    this.seenBackend = currentLock('job:report')?.backend;
    await this.during?.();
    return this.runs;
  }
}

@Injectable()
class ManagerUser {
  constructor(@InjectLockManager() readonly manager: LockManager) {}
}

const apps: TestingModule[] = [];

async function startApp(options: DlockModuleOptions): Promise<TestingModule> {
  const app = await Test.createTestingModule({
    imports: [DlockModule.forRoot(options)],
    providers: [ReportJob, ManagerUser],
  }).compile();
  apps.push(app);
  await app.init();
  return app;
}

function defaultOrUndefined(): LockManager | undefined {
  try {
    return getDefaultLockManager();
  } catch (error) {
    if (InvalidLockOptionsError.isInstance(error)) return undefined;
    throw error;
  }
}

afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
  setDefaultLockManager(undefined);
});

describe('DlockModule.forRoot', () => {
  it('provides LockManager as a token, makes it the default for decorators, and runs them on it', async () => {
    const prefix = testPrefix('nest-root');
    const app = await startApp({ backends: redisBackends(), keyPrefix: prefix });
    const manager = app.get(LockManager);
    expect(manager).toBeInstanceOf(LockManager);
    expect(app.get(ManagerUser).manager).toBe(manager);
    expect(getDefaultLockManager()).toBe(manager);

    const acquired: string[] = [];
    manager.on('acquired', ({ key }) => acquired.push(key));
    const job = app.get(ReportJob);
    await expect(job.run()).resolves.toBe(1);
    expect(acquired).toEqual(['job:report']);
    // Two backends and no retry: the default route picks spin.
    expect(job.seenBackend).toBe('spin');
  });

  it("onLocked: 'skip' never runs the body while another replica holds the key", async () => {
    const prefix = testPrefix('nest-skip');
    const app = await startApp({ backends: redisBackends(), keyPrefix: prefix });
    const skipped: LockSkippedEvent[] = [];
    app.get(LockManager).on('skipped', (event) => skipped.push(event));
    const job = app.get(ReportJob);

    const otherReplica = outsideManager(prefix);
    const held = createGate();
    const holdingNow = createGate();
    const holding = otherReplica.withLock('job:report', {}, async () => {
      holdingNow.open();
      await held.opened;
    });
    await holdingNow.opened;
    try {
      for (let attempt = 0; attempt < 3; attempt++) await expect(job.run()).resolves.toBeUndefined();
      expect(job.runs).toBe(0);
      expect(skipped.map(({ key, reason }) => `${key}:${reason}`)).toEqual(Array(3).fill('job:report:held'));
    } finally {
      held.open();
      await holding;
      await otherReplica.close();
    }
    await expect(job.run()).resolves.toBe(1);
  });

  it('app.close() releases a held lock at once, aborts the running section, and closes the backends', async () => {
    const prefix = testPrefix('nest-close');
    const app = await startApp({
      backends: redisBackends(),
      keyPrefix: prefix,
      defaults: { leaseMs: 30_000 },
    });
    const manager = app.get(LockManager);
    const job = app.get(ReportJob);
    const running = createGate();
    let lockSignal: AbortSignal | undefined;
    job.during = () =>
      new Promise<void>((resolve) => {
        // The section ends when its lock is taken away, like a well-behaved long job.
        lockSignal = currentLock('job:report')?.signal;
        lockSignal?.addEventListener('abort', () => resolve(), { once: true });
        running.open();
      });
    const run = job.run();
    const runSettled = run.then(
      () => 'resolved',
      (error: unknown) => (error as Error).name,
    );
    await running.opened;

    const otherReplica = outsideManager(prefix);
    try {
      const whileHeld = await otherReplica.tryWithLock('job:report', {}, async () => 'ran');
      expect(whileHeld).toEqual({ acquired: false, reason: 'held' });

      await app.close();
      apps.splice(apps.indexOf(app), 1);
      expect(lockSignal?.aborted).toBe(true);
      // The section's lock was taken away, so its scope rejects as lost rather than pretending success.
      expect(await runSettled).toBe('LockLostError');
      // 30 s lease, yet the key is free the moment close() resolves.
      const afterClose = await otherReplica.tryWithLock('job:report', {}, async () => 'ran');
      expect(afterClose).toEqual({ acquired: true, value: 'ran' });
      await expect(manager.withLock('job:other', {}, async () => 'x')).rejects.toThrow(/closed/);
    } finally {
      await otherReplica.close();
    }
  });
});

describe('DlockModule.forRootAsync', () => {
  const REDIS = Symbol('redis');
  const SETTINGS = Symbol('settings');

  it('builds the manager from injected providers and runs afterClose on shutdown', async () => {
    const prefix = testPrefix('nest-async');
    const redis = newRedisClient();

    @Module({
      providers: [
        { provide: REDIS, useValue: redis },
        { provide: SETTINGS, useFactory: async () => ({ keyPrefix: prefix }) },
      ],
      exports: [REDIS, SETTINGS],
    })
    class InfrastructureModule {}

    const closedClients: string[] = [];
    const app = await Test.createTestingModule({
      imports: [
        DlockModule.forRootAsync({
          imports: [InfrastructureModule],
          inject: [REDIS, SETTINGS, { token: 'missing', optional: true }],
          useFactory: async (client: Redis, settings: { keyPrefix: string }, missing: undefined) => {
            expect(missing).toBeUndefined();
            return {
              backends: redisBackends(client),
              keyPrefix: settings.keyPrefix,
              afterClose: async () => {
                closedClients.push(await client.quit());
              },
            };
          },
        }),
      ],
      providers: [ReportJob],
    }).compile();
    apps.push(app);
    await app.init();

    expect(getDefaultLockManager()).toBe(app.get(LockManager));
    await expect(app.get(ReportJob).run()).resolves.toBe(1);
    const otherReplica = outsideManager(prefix);
    try {
      const held = createGate();
      const job = app.get(ReportJob);
      job.during = () => held.opened;
      const running = job.run();
      await expect(otherReplica.tryWithLock('job:report', {}, async () => 1)).resolves.toMatchObject({
        acquired: false,
      });
      held.open();
      await running;
    } finally {
      await otherReplica.close();
    }

    await app.close();
    apps.splice(apps.indexOf(app), 1);
    expect(closedClients).toEqual(['OK']);
    expect(defaultOrUndefined()).toBeUndefined();
  });

  it('rejects a missing useFactory when the module is declared', () => {
    expect(() =>
      DlockModule.forRootAsync({ useFactory: undefined as unknown as () => { backends: {} } }),
    ).toThrow(/useFactory must be a function/);
  });
});

describe('default manager across applications in one process', () => {
  const memory = () => ({ backends: { memory: new MemoryLockBackend() } });

  it('restores what was there before, and a closed manager never stays the default', async () => {
    const userManager = new LockManager(memory());
    setDefaultLockManager(userManager);

    const first = await startApp(memory());
    expect(getDefaultLockManager()).toBe(first.get(LockManager));
    await first.close();
    apps.splice(apps.indexOf(first), 1);
    expect(getDefaultLockManager()).toBe(userManager);

    const second = await startApp(memory());
    expect(getDefaultLockManager()).toBe(second.get(LockManager));
    await expect(second.get(ReportJob).run()).resolves.toBe(1);
    await second.close();
    apps.splice(apps.indexOf(second), 1);
    expect(getDefaultLockManager()).toBe(userManager);
    await userManager.close();
  });

  it('two live applications: the most recent is the default; closing them in either order leaks neither', async () => {
    for (const closeOrder of [
      ['a', 'b'],
      ['b', 'a'],
    ] as const) {
      const started = { a: await startApp(memory()), b: await startApp(memory()) };
      const managers = { a: started.a.get(LockManager), b: started.b.get(LockManager) };
      expect(managers.a).not.toBe(managers.b);
      expect(getDefaultLockManager()).toBe(managers.b);

      const [firstClosed, lastClosed] = closeOrder;
      await started[firstClosed].close();
      apps.splice(apps.indexOf(started[firstClosed]), 1);
      // Closing b hands the default back to the still-running a; closing a leaves b in place.
      expect(getDefaultLockManager()).toBe(managers[lastClosed]);

      await started[lastClosed].close();
      apps.splice(apps.indexOf(started[lastClosed]), 1);
      expect(defaultOrUndefined()).toBeUndefined();
    }
  });

  it('a decorator called after its application closed fails clearly instead of using a stale manager', async () => {
    const app = await startApp(memory());
    const job = app.get(ReportJob);
    await app.close();
    apps.splice(apps.indexOf(app), 1);
    await expect(job.run()).rejects.toThrow(/No default LockManager is set/);
    expect(job.runs).toBe(0);
  });

  it('a manager given per decorator ignores the default, for two live applications with their own stores', async () => {
    const own = new LockManager(memory());
    class PinnedJob {
      @DistributedLock({ key: 'job:pinned', manager: own })
      async run(): Promise<string | undefined> {
        return currentLock('job:pinned')?.backend;
      }
    }
    @Injectable()
    class UsesInjected {
      constructor(@Inject(LockManager) readonly manager: LockManager) {}
    }
    const app = await Test.createTestingModule({
      imports: [DlockModule.forRoot(memory())],
      providers: [UsesInjected],
    }).compile();
    apps.push(app);
    await app.init();
    const acquiredOnOwn: string[] = [];
    own.on('acquired', ({ key }) => acquiredOnOwn.push(key));
    await expect(new PinnedJob().run()).resolves.toBe('memory');
    expect(acquiredOnOwn).toEqual(['job:pinned']);
    expect(app.get(UsesInjected).manager).toBe(getDefaultLockManager());
    await own.close();
  });
});
