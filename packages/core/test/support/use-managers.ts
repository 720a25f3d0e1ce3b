import { afterEach } from 'vitest';
import { LockManager, type LockManagerOptions } from '../../src/index.js';
import { RecordingBackend } from './recording-backend.js';

/**
 * `createManager()` for one test file: every manager it makes is closed after each test.
 *
 * @example
 * const createManager = useManagers();
 * const { manager, backend } = createManager();
 */
export function useManagers(): {
  (
    backend?: RecordingBackend,
    options?: Partial<LockManagerOptions>,
  ): { manager: LockManager; backend: RecordingBackend };
  /** Close a manager the test made itself after the test, too. */
  track(manager: LockManager<string>): void;
} {
  const managers: LockManager<string>[] = [];
  afterEach(async () => {
    await Promise.all(managers.splice(0).map((manager) => manager.close()));
  });
  const create = (backend = new RecordingBackend(), options: Partial<LockManagerOptions> = {}) => {
    const manager = new LockManager({ backends: { memory: backend }, ...options });
    managers.push(manager);
    return { manager, backend };
  };
  return Object.assign(create, { track: (manager: LockManager<string>) => void managers.push(manager) });
}
