import { assertDuration, describeValue } from './duration.js';
import { InvalidLockOptionsError } from './errors.js';
import { defaultAppName } from './lock-inspection.js';
import type { LockDefaults } from './lock-options.js';

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
export function resolveManagerOptions(options: {
  readonly keyPrefix?: string | undefined;
  readonly defaults?: LockDefaults | undefined;
  readonly lagAlarmShare?: number | undefined;
  readonly appName?: string | undefined;
}): ResolvedManagerOptions {
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
