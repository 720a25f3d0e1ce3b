import { assertDuration, describeValue } from './duration.js';
import { InvalidLockOptionsError } from './errors.js';
import type { LockBackend } from './lock-backend.js';
import { defaultAppName } from './lock-inspection.js';
import type { LockDefaults } from './lock-options.js';
import type { LockRoute } from './lock-route.js';

/** Options of a {@link LockManager}; `B` is the names of its backends. */
export interface LockManagerOptions<B extends string = string> {
  /** Backends by name, e.g. `{ spin, pubsub, mysql }`; their names type the `backend` option of calls. */
  readonly backends: Readonly<Record<B, LockBackend>>;
  /**
   * Picks the backend when a call names none. Default: the only backend if there is one,
   * otherwise {@link recommendedRoute} (no retry -> "spin", retry -> "pubsub").
   */
  readonly route?: LockRoute<NoInfer<B>> | undefined;
  /** Prepended to every key, e.g. `"shop:"`, so several apps can share a store. */
  readonly keyPrefix?: string | undefined;
  /** Defaults for `retry`, `leaseMs` and `waitMs`. */
  readonly defaults?: LockDefaults | undefined;
  /**
   * Share (0 to 1] of a held lock's renewal margin (two thirds of its lease) an event-loop stall
   * may eat before the manager emits `lag` and renews at once. Default 0.5.
   */
  readonly lagAlarmShare?: number | undefined;
  /**
   * The app name recorded with every lock this manager takes (with host, pid and the call's label),
   * shown by `inspect()`, `list()` and the `dlock` CLI. Default: `npm_package_name` (set by
   * `npm run`/`pnpm run`), else the entry script's file name, else `process.title`.
   */
  readonly appName?: string | undefined;
}

/** The manager-wide settings a {@link LockManager} resolves once, at construction. */
export interface ResolvedManagerOptions {
  readonly keyPrefix: string;
  readonly lagAlarmShare: number;
  readonly appName: string;
}

/**
 * Check the manager's own options (backends, route and call defaults are the planner's) and apply
 * their defaults, before anything is built.
 *
 * @throws InvalidLockOptionsError naming the bad option.
 */
export function resolveManagerOptions(
  options: Pick<LockManagerOptions, 'keyPrefix' | 'defaults' | 'lagAlarmShare' | 'appName'>,
): ResolvedManagerOptions {
  const keyPrefix = options.keyPrefix ?? '';
  if (typeof keyPrefix !== 'string') throw new InvalidLockOptionsError('keyPrefix must be a string.');
  if (options.defaults?.waitMs !== undefined) assertDuration('defaults.waitMs', options.defaults.waitMs);
  const lagAlarmShare = options.lagAlarmShare ?? 0.5;
  if (typeof lagAlarmShare !== 'number' || !(lagAlarmShare > 0 && lagAlarmShare <= 1)) {
    throw new InvalidLockOptionsError(
      `lagAlarmShare must be a number in (0, 1], got ${describeValue(lagAlarmShare)}.`,
    );
  }
  const appName = options.appName ?? defaultAppName();
  if (typeof appName !== 'string') throw new InvalidLockOptionsError('appName must be a string.');
  return { keyPrefix, lagAlarmShare, appName };
}
