import type { LockManagerOptions } from '@dlock/core';
import type { InjectionToken, ModuleMetadata, OptionalFactoryDependency } from '@nestjs/common';

/** What builds the application's `LockManager`: its constructor options, plus a hook for your clients. */
export interface DlockManagerOptions extends LockManagerOptions {
  /**
   * Runs on application shutdown right after the manager closed (locks released, waiters aborted,
   * backends closed). Backends never close a client you gave them: quit it here.
   *
   * @example
   * afterClose: () => redis.quit()
   */
  readonly afterClose?: (() => unknown) | undefined;
}

/** Options of the module itself, fixed when the module is declared (they decide which providers exist). */
export interface DlockModuleBehaviorOptions {
  /** Register the module globally, so every module can inject `LockManager`. Default `true`. */
  readonly isGlobal?: boolean | undefined;
  /**
   * Install {@link LockErrorFilter} as a global filter (`APP_FILTER`): dlock errors thrown by HTTP
   * handlers answer 409 / 503 + `Retry-After` / 500 instead of Nest's generic 500. Default `false`.
   */
  readonly errorFilter?: boolean | undefined;
}

/**
 * Options of `DlockModule.forRoot`.
 *
 * @example
 * DlockModule.forRoot({ backends: { spin: new RedisSpinLockBackend(redis) }, errorFilter: true })
 */
export interface DlockModuleOptions extends DlockManagerOptions, DlockModuleBehaviorOptions {}

/**
 * Options of `DlockModule.forRootAsync`: the manager's options come from a factory that can
 * inject providers (configuration, a Redis client).
 *
 * @example
 * DlockModule.forRootAsync({
 *   imports: [RedisModule],
 *   inject: [REDIS],
 *   useFactory: (redis: Redis) => ({ backends: { spin: new RedisSpinLockBackend(redis) } }),
 * })
 */
export interface DlockModuleAsyncOptions extends DlockModuleBehaviorOptions {
  /** Modules whose exported providers `inject` names. */
  readonly imports?: ModuleMetadata['imports'] | undefined;
  /** Tokens whose values are passed to `useFactory`, in order. */
  readonly inject?: readonly (InjectionToken | OptionalFactoryDependency)[] | undefined;
  /** Returns the manager's options; receives the values of `inject`. May be async. */
  readonly useFactory: (...dependencies: never[]) => DlockManagerOptions | Promise<DlockManagerOptions>;
}

/** Injection token of the resolved {@link DlockManagerOptions}. Internal to the module. */
export const DLOCK_MANAGER_OPTIONS = Symbol.for('dlock:nestjs:manager-options');
