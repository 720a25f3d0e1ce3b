import { InvalidLockKeyError } from './errors.js';
import { parseKeyTemplate, validateLockKey } from './key-template.js';

/**
 * Turn a decorator's `key` (a template or a function of the arguments) into a function from the
 * call's arguments to its validated key or keys. Throws `InvalidLockKeyError` at decoration time
 * for a bad template, at call time for a bad value.
 */
export function compileKey(key: unknown): (args: readonly unknown[]) => string | string[] {
  if (typeof key === 'string') {
    const template = parseKeyTemplate(key);
    return (args) => template.resolve(args);
  }
  if (typeof key === 'function') {
    return (args) => {
      const result: unknown = key(...args);
      if (typeof result === 'string') return validateLockKey(result);
      if (Array.isArray(result)) {
        if (result.length === 0) throw new InvalidLockKeyError('The key function returned an empty array.');
        return result.map((item) => validateLockKey(item));
      }
      throw new InvalidLockKeyError(
        `The key function must return a string or an array of strings, got ${result === null ? 'null' : typeof result}.`,
      );
    };
  }
  throw new InvalidLockKeyError(
    `@DistributedLock key must be a template string like 'stock:{0}' or a function of the arguments, got ${key === null ? 'null' : typeof key}.`,
  );
}
