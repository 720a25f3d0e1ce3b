import { callOptionsCache, type DecoratedCallOptions } from './decorated-call-options.js';
import { getDefaultLockManager } from './default-manager.js';
import type {
  DistributedLockDecorator,
  DistributedLockMetadata,
  DistributedLockOptions,
  DistributedSemaphoreOptions,
  LockKey,
  LockKeyFunctionOne,
  OnLocked,
} from './distributed-lock-options.js';
import { describeValue } from './duration.js';
import { InvalidLockKeyError, InvalidLockOptionsError } from './errors.js';
import { compileKey } from './key-compiler.js';
import {
  type DefaultBackendName,
  type LockModeOption,
  type LockOptions,
  resolveTiming,
} from './lock-options.js';
import type { TryLockResult } from './lock-scope-runner.js';
import { copyReflectMetadata } from './reflect-metadata-api.js';

// dlock's own metadata needs no reflect-metadata; one registry per process even when the ESM and
// the CJS build are both loaded.
const REGISTRY_KEY = Symbol.for('dlock:distributed-lock');
const registrySlot = globalThis as { [REGISTRY_KEY]?: WeakMap<object, DistributedLockMetadata> };
registrySlot[REGISTRY_KEY] ??= new WeakMap();
const lockMetadata: WeakMap<object, DistributedLockMetadata> = registrySlot[REGISTRY_KEY];

/**
 * Hold a distributed lock while the decorated async method runs.
 *
 * @example
 * class StockService {
 *   @DistributedLock({ key: 'stock:{0}', retry: { waitMs: 5_000 } })
 *   async decrease(productId: string, quantity: number) { ... }
 *
 *   @DistributedLock({ key: (order: Order) => order.items.map((item) => `stock:${item.productId}`) })
 *   async reserve(order: Order) { ... }
 * }
 */
export function DistributedLock<
  const K extends LockKey,
  const S extends OnLocked = 'throw',
  B extends string = DefaultBackendName,
>(options: DistributedLockOptions<K, S, B>): DistributedLockDecorator<K, S> {
  if (options === null || typeof options !== 'object') {
    throw new TypeError('@DistributedLock(options): options must be an object with at least a key.');
  }
  const mode = options.mode ?? 'write';
  if (mode !== 'read' && mode !== 'write') {
    throw new InvalidLockOptionsError(`mode must be "read" or "write", got ${describeValue(mode)}.`);
  }
  return lockDecorator(options, {
    name: 'DistributedLock',
    mode,
    permits: undefined,
  }) as DistributedLockDecorator<K, S>;
}

/**
 * Run the decorated async method while holding one of `permits` permits of a distributed
 * semaphore: at most `permits` calls for the key at once across every process, served first come,
 * first served. Same `key`, `retry`, `leaseMs`, `backend`, `manager` and `onLocked` rules as
 * {@link DistributedLock}; the key must resolve to ONE key.
 *
 * @example
 * class PaymentService {
 *   @DistributedSemaphore({ key: 'psp:authorise', permits: 3, retry: { waitMs: 10_000 } })
 *   async authorise(payment: Payment) { ... }
 * }
 */
export function DistributedSemaphore<
  const K extends string | LockKeyFunctionOne,
  const S extends OnLocked = 'throw',
  B extends string = DefaultBackendName,
>(options: DistributedSemaphoreOptions<K, S, B>): DistributedLockDecorator<K, S> {
  if (options === null || typeof options !== 'object') {
    throw new TypeError('@DistributedSemaphore(options): options must be an object with a key and permits.');
  }
  const { permits } = options;
  if (typeof permits !== 'number' || !Number.isSafeInteger(permits) || permits < 1) {
    throw new InvalidLockOptionsError(
      `@DistributedSemaphore permits must be a positive integer, got ${describeValue(permits)}.`,
    );
  }
  if ((options as { mode?: unknown }).mode !== undefined) {
    throw new InvalidLockOptionsError('@DistributedSemaphore has no mode: leave mode out.');
  }
  return lockDecorator(options, {
    name: 'DistributedSemaphore',
    mode: undefined,
    permits,
  }) as DistributedLockDecorator<K, S>;
}

interface DecoratorVariant {
  readonly name: 'DistributedLock' | 'DistributedSemaphore';
  readonly mode: 'read' | 'write' | undefined;
  readonly permits: number | undefined;
}

function lockDecorator(
  options:
    | DistributedLockOptions<LockKey, OnLocked, string>
    | DistributedSemaphoreOptions<string | LockKeyFunctionOne, OnLocked, string>,
  variant: DecoratorVariant,
): unknown {
  const decoratorName = `@${variant.name}`;
  const resolveKeys = compileKey(options.key);
  resolveTiming(options);
  if (options.backend !== undefined) options.manager?.assertBackend(options.backend);
  const { key, retry, leaseMs, backend, manager, holdAtLeastMs } = options;
  const { mode, permits } = variant;
  const onLocked: OnLocked = options.onLocked ?? 'throw';
  if (onLocked !== 'throw' && onLocked !== 'skip') {
    throw new InvalidLockOptionsError(`onLocked must be "throw" or "skip", got ${describeValue(onLocked)}.`);
  }
  // `mode` only when asked for, so a plain lock's options stay what they were.
  const lockOptions: LockOptions & LockModeOption = {
    retry,
    leaseMs,
    backend,
    holdAtLeastMs,
    ...(mode === 'read' ? { mode } : {}),
  };
  const keyTemplate = typeof key === 'string' ? key : undefined;

  function wrap(method: unknown, methodName: string): (...args: unknown[]) => Promise<unknown> {
    if (typeof method !== 'function') {
      throw new TypeError(`${decoratorName} can only decorate methods; "${methodName}" is not a method.`);
    }
    if (!isAsyncFunction(method)) {
      // Refused before it can ever run: a plain method's body would run (side effects and all)
      // before its missing Promise could be noticed.
      throw new InvalidLockOptionsError(
        `${decoratorName} method "${methodName}" must be declared async (async ${methodName}(...) { ... }); ` +
          'compile for ES2017 or later so async methods stay async.',
      );
    }
    const callOptionsOf = callOptionsCache(
      (label): DecoratedCallOptions =>
        Object.freeze(
          permits === undefined
            ? { ...lockOptions, label, keyTemplate }
            : { ...lockOptions, label, keyTemplate, permits },
        ),
      methodName,
    );
    // Not an async function: the common path hands back the manager's own promise instead of
    // wrapping it in one more (a measurable share of a decorated call). Errors still reject.
    const wrapped = function (this: unknown, ...args: unknown[]): Promise<unknown> {
      try {
        const keys = resolveKeys(args);
        const run = () => method.apply(this, args) as Promise<unknown>;
        const lockManager = manager ?? getDefaultLockManager();
        const callOptions = callOptionsOf(this);
        if (permits === undefined) {
          return onLocked === 'throw'
            ? lockManager.withLock(keys, callOptions, run)
            : lockManager.tryWithLock(keys, callOptions, run).then(valueIfAcquired);
        }
        if (typeof keys !== 'string') {
          throw new InvalidLockKeyError(
            `${decoratorName} on "${methodName}": the key function must return one key, got an array.`,
          );
        }
        const semaphoreOptions = callOptions as DecoratedCallOptions & { readonly permits: number };
        return onLocked === 'throw'
          ? lockManager.withSemaphore(keys, semaphoreOptions, run)
          : lockManager.tryWithSemaphore(keys, semaphoreOptions, run).then(valueIfAcquired);
      } catch (error) {
        return Promise.reject(error);
      }
    };
    Object.defineProperty(wrapped, 'name', { value: method.name, configurable: true });
    copyReflectMetadata(method, wrapped);
    const metadata: DistributedLockMetadata = Object.freeze({
      key,
      retry,
      leaseMs,
      backend,
      holdAtLeastMs,
      methodName,
      onLocked,
      mode,
      permits,
    });
    lockMetadata.set(wrapped, metadata);
    return wrapped;
  }

  function decorate(...args: unknown[]): unknown {
    const [target, second, descriptor] = args;
    if (isStandardContext(second)) {
      if (second.kind !== 'method') {
        throw new TypeError(
          `${decoratorName} can only decorate methods, not a ${second.kind} ("${String(second.name)}").`,
        );
      }
      return wrap(target, String(second.name));
    }
    const propertyKey = second as string | symbol;
    const property = descriptor as PropertyDescriptor | undefined;
    if (!property || typeof property.value !== 'function' || property.get || property.set) {
      throw new TypeError(
        `${decoratorName} can only decorate methods; "${String(propertyKey)}" is a ${property?.get || property?.set ? 'getter/setter' : 'field'}.`,
      );
    }
    property.value = wrap(property.value, String(propertyKey));
    return property;
  }
  return decorate;
}

/**
 * The options a method was decorated with, or `undefined`.
 *
 * @example
 * getDistributedLockMetadata(StockService.prototype, 'decrease')?.key // 'stock:{0}'
 */
export function getDistributedLockMetadata(
  target: object,
  methodName: string | symbol,
): DistributedLockMetadata | undefined {
  const owner =
    typeof target === 'function' && !(methodName in target) ? (target.prototype as object) : target;
  const method = (owner as Record<string | symbol, unknown>)[methodName];
  return typeof method === 'function' ? lockMetadata.get(method) : undefined;
}

function isStandardContext(value: unknown): value is { kind: string; name: string | symbol } {
  return (
    typeof value === 'object' && value !== null && typeof (value as { kind?: unknown }).kind === 'string'
  );
}

/** `StockService.decrease` (the class of `this`, or the class itself for a static method). */
function valueIfAcquired<T>(outcome: TryLockResult<T>): T | undefined {
  return outcome.acquired ? outcome.value : undefined;
}

function isAsyncFunction(value: Function): boolean {
  return Object.prototype.toString.call(value) === '[object AsyncFunction]';
}
