import { LockManager } from '@dlock/core';
import { type DynamicModule, Module, type Provider } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import {
  DLOCK_MANAGER_OPTIONS,
  type DlockManagerOptions,
  type DlockModuleAsyncOptions,
  type DlockModuleBehaviorOptions,
  type DlockModuleOptions,
} from './dlock-module-options.js';
import { LockErrorFilter } from './lock-error-filter.js';
import { LockManagerLifecycle } from './lock-manager-lifecycle.js';

/**
 * One `LockManager` per Nest application: injectable as `LockManager`, the default manager of
 * `@DistributedLock` methods from module init on, and closed on application shutdown (held locks
 * released, waiters aborted, pub/sub subscriber connections closed), which also puts the previous
 * default manager back. Decorators look the default up at call time, not at decoration time.
 *
 * @example
 * @Module({
 *   imports: [
 *     ScheduleModule.forRoot(),
 *     DlockModule.forRoot({ backends: { spin: new RedisSpinLockBackend(redis) }, afterClose: () => redis.quit() }),
 *   ],
 *   providers: [ReportJob],
 * })
 * export class AppModule {}
 */
// biome-ignore lint/complexity/noStaticOnlyClass: a Nest module is a class; static forRoot/forRootAsync is Nest's convention for configuring one.
export class DlockModule {
  /**
   * Build the manager from static options.
   *
   * @example
   * DlockModule.forRoot({ backends: { spin, pubsub }, keyPrefix: 'shop:', errorFilter: true })
   */
  static forRoot(options: DlockModuleOptions): DynamicModule {
    const { isGlobal, errorFilter, ...managerOptions } = options;
    return defineModule(
      { isGlobal, errorFilter },
      { provide: DLOCK_MANAGER_OPTIONS, useValue: managerOptions },
    );
  }

  /**
   * Build the manager from a factory that injects other providers (configuration, a Redis client).
   *
   * @example
   * DlockModule.forRootAsync({
   *   imports: [ConfigModule],
   *   inject: [ConfigService],
   *   useFactory: (config: ConfigService) => {
   *     const redis = new Redis(config.getOrThrow('REDIS_URL'));
   *     return { backends: { spin: new RedisSpinLockBackend(redis) }, afterClose: () => redis.quit() };
   *   },
   * })
   */
  static forRootAsync(options: DlockModuleAsyncOptions): DynamicModule {
    const { isGlobal, errorFilter, imports = [], inject = [], useFactory } = options;
    if (typeof useFactory !== 'function') {
      throw new TypeError('DlockModule.forRootAsync({ useFactory }): useFactory must be a function.');
    }
    return {
      ...defineModule(
        { isGlobal, errorFilter },
        { provide: DLOCK_MANAGER_OPTIONS, useFactory, inject: [...inject] },
      ),
      imports,
    };
  }
}

// Decorators applied as calls: workspace apps run this source through tsx/esbuild, which applies
// experimentalDecorators only to files inside the app's own tsconfig, so the source must not
// depend on a decorator mode. The effect is exactly that of `@Module({})` above the class.
Module({})(DlockModule);

/** The providers both entry points share; only where the manager's options come from differs. */
function defineModule(behavior: DlockModuleBehaviorOptions, optionsProvider: Provider): DynamicModule {
  const providers: Provider[] = [
    optionsProvider,
    {
      provide: LockManager,
      useFactory: ({ afterClose: _afterClose, ...managerOptions }: DlockManagerOptions) =>
        new LockManager(managerOptions),
      inject: [DLOCK_MANAGER_OPTIONS],
    },
    {
      provide: LockManagerLifecycle,
      useFactory: (manager: LockManager, options: DlockManagerOptions) =>
        new LockManagerLifecycle(manager, options),
      inject: [LockManager, DLOCK_MANAGER_OPTIONS],
    },
  ];
  if (behavior.errorFilter === true) providers.push({ provide: APP_FILTER, useClass: LockErrorFilter });
  return {
    module: DlockModule,
    global: behavior.isGlobal ?? true,
    providers,
    exports: [LockManager],
  };
}
