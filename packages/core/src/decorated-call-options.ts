import type { LockModeOption, LockOptions } from './lock-options.js';

/** The options a decorated method passes to the manager on each call. */
export type DecoratedCallOptions = LockOptions &
  LockModeOption & {
    readonly label: string;
    readonly keyTemplate: string | undefined;
    readonly permits?: number;
  };

/**
 * The options of a decorated call for each receiver class, made once per class: the label
 * (`Class.method`) and the options object were rebuilt on every call before.
 */
export function callOptionsCache(
  build: (label: string) => DecoratedCallOptions,
  methodName: string,
): (self: unknown) => DecoratedCallOptions {
  const byClass = new WeakMap<Function, DecoratedCallOptions>();
  let classless: DecoratedCallOptions | undefined;
  return (self) => {
    // A static method's receiver is the class itself.
    const owner = typeof self === 'function' ? self : (self as { constructor?: unknown } | null)?.constructor;
    if (typeof owner !== 'function' || !owner.name) {
      classless ??= build(methodName);
      return classless;
    }
    let options = byClass.get(owner);
    if (!options) {
      options = build(`${owner.name}.${methodName}`);
      byClass.set(owner, options);
    }
    return options;
  };
}
