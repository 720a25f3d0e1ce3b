import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let gc: (() => void) | undefined;

/**
 * The process's `heapUsed` after three full collections, so a memory test compares live objects,
 * not garbage that happened to be waiting. Exposes `gc` at runtime on first use: a test file needs
 * no `--expose-gc` flag.
 *
 * @example
 * const before = heapUsedAfterGc();
 * await lockAndReleaseManyKeys();
 * expect(heapUsedAfterGc() - before).toBeLessThan(KEYS * 8);
 */
export function heapUsedAfterGc(): number {
  if (!gc) {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  }
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
}
