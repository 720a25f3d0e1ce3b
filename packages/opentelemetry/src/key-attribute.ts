import type { LockCallEvent } from '@dlock/core';

/**
 * What `dlock.lock.key` says about a lock:
 * - `'template'` (default): the `@DistributedLock` key template (`stock:{0}`) when the call has one
 *   (decorators, or the `keyTemplate` call option); otherwise spans carry the raw key and metrics
 *   carry no key at all, so `withLock('stock:' + id)` cannot blow up metric cardinality.
 * - `'key'`: the raw key (`stock:42`) on spans and metrics. Only for a small, fixed set of keys.
 * - `'none'`: no key attribute (keys that are personal data, or that nobody needs).
 * - a function: its result on spans and metrics (`undefined` = no attribute). It runs once per
 *   acquisition; keep its range small.
 */
export type KeyAttributeOption = 'template' | 'key' | 'none' | ((event: LockCallEvent) => string | undefined);

/** The key attribute of one call, for spans and for metrics. */
export interface KeyAttributeValues {
  readonly span: string | undefined;
  readonly metric: string | undefined;
}

/** Turn the option into a resolver, checked once at instrumentation time. */
export function keyAttributeResolver(
  option: KeyAttributeOption | undefined,
): (event: LockCallEvent) => KeyAttributeValues {
  const none: KeyAttributeValues = { span: undefined, metric: undefined };
  switch (option ?? 'template') {
    case 'template':
      return (event) => ({ span: event.keyTemplate ?? event.key, metric: event.keyTemplate });
    case 'key':
      return (event) => ({ span: event.key, metric: event.key });
    case 'none':
      return () => none;
    default: {
      if (typeof option !== 'function') {
        throw new TypeError(
          `instrumentLockManager: keyAttribute must be 'template', 'key', 'none' or a function, not ${String(option)}.`,
        );
      }
      return (event) => {
        const value = option(event);
        return { span: value, metric: value };
      };
    }
  }
}
