import type { KeyFitsMethod, SkipFitsResult } from './decorator-type-checks.js';
import type { LockManager } from './lock-manager.js';
import type { DefaultBackendName, LockModeOption, LockOptions, SemaphoreLimit } from './lock-options.js';

/** A key function: receives the decorated method's arguments, returns one key or several. */
export type LockKeyFunction<A extends readonly unknown[] = never[]> = (
  ...args: A
) => string | readonly string[];

/** Either a template (`'stock:{0}'`, `'order:{1.id}'`) or a key function. */
export type LockKey = string | LockKeyFunction;

/** What a decorated method does when its lock stays taken. */
export type OnLocked = 'throw' | 'skip';

export interface DistributedLockOptions<
  K extends LockKey = LockKey,
  S extends OnLocked = OnLocked,
  B extends string = DefaultBackendName,
> extends LockOptions<NoInfer<B>>,
    LockModeOption {
  /**
   * `'stock:{0}'` (first argument), `'cart:{0.user.id}'` (property path), or a function of the
   * method's arguments returning one key or an array of keys (taken in sorted order).
   */
  readonly key: K;
  /**
   * Manager to use; its backend names type `backend`. Default: the one given to
   * `setDefaultLockManager`, looked up at call time (augment {@link LockBackendNames} to type
   * `backend` then).
   */
  readonly manager?: LockManager<B> | undefined;
  /**
   * When the lock stays taken (held for a try-once call, or the wait ran out): `'throw'` (default)
   * rejects with `LockNotAcquiredError` / `LockTimeoutError`; `'skip'` does not run the method,
   * resolves to `undefined` and emits `skipped` (a cron job that another replica already runs).
   * With `'skip'` the method must declare `Promise<T | undefined>`, so callers see the skip.
   */
  readonly onLocked?: S | undefined;
}

/** Options of {@link DistributedSemaphore}: the lock options without `mode`, plus `permits`. */
export interface DistributedSemaphoreOptions<
  K extends string | LockKeyFunctionOne = string | LockKeyFunctionOne,
  S extends OnLocked = OnLocked,
  B extends string = DefaultBackendName,
> extends Omit<DistributedLockOptions<K, S, B>, 'mode' | 'key'>,
    SemaphoreLimit {
  /** `'exports:{0}'`, or a function of the method's arguments returning ONE key. */
  readonly key: K;
}

/** A key function that returns one key (a semaphore has one key). */
export type LockKeyFunctionOne = (...args: never[]) => string;

/** What `getDistributedLockMetadata` returns for a decorated method. */
export interface DistributedLockMetadata extends LockOptions {
  readonly key: LockKey;
  readonly methodName: string;
  readonly onLocked: OnLocked;
  /** `'read'` or `'write'` for `@DistributedLock` (default `'write'`); `undefined` for a semaphore. */
  readonly mode: 'read' | 'write' | undefined;
  /** `@DistributedSemaphore`'s permits; `undefined` for a lock. */
  readonly permits: number | undefined;
}

type AsyncMethod<This, A extends unknown[], R> = (this: This, ...args: A) => Promise<R>;

/** The decorator returned by {@link DistributedLock}: TC39 standard form and legacy `experimentalDecorators` form. */
export interface DistributedLockDecorator<K extends LockKey, S extends OnLocked = 'throw'> {
  <This, A extends unknown[], R>(
    method: AsyncMethod<This, A, R>,
    context: ClassMethodDecoratorContext<This, AsyncMethod<This, A, R>> &
      KeyFitsMethod<K, A> &
      SkipFitsResult<S, R>,
  ): AsyncMethod<This, A, R>;
  <A extends unknown[], R>(
    target: object,
    propertyKey: string | symbol,
    descriptor: TypedPropertyDescriptor<(...args: A) => Promise<R>> &
      KeyFitsMethod<K, A> &
      SkipFitsResult<S, R>,
  ): TypedPropertyDescriptor<(...args: A) => Promise<R>>;
}
