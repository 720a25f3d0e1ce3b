// TC39 decorators need no reflect-metadata: dlock keeps its own metadata in a WeakMap.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DistributedLock, getDistributedLockMetadata, LockManager, MemoryLockBackend } from '../src/index.js';

const REFLECT_METADATA_FUNCTIONS = ['defineMetadata', 'getMetadata', 'getOwnMetadata', 'getOwnMetadataKeys'];
const saved = new Map<string, unknown>();
const reflect = Reflect as unknown as Record<string, unknown>;

describe('@DistributedLock without reflect-metadata', () => {
  // Another test file of this worker may have loaded the polyfill: take it away for this file.
  beforeAll(() => {
    for (const name of REFLECT_METADATA_FUNCTIONS) {
      saved.set(name, reflect[name]);
      delete reflect[name];
    }
  });
  afterAll(() => {
    for (const [name, value] of saved) if (value !== undefined) reflect[name] = value;
  });

  it('decorates, runs under the lock and records its metadata', async () => {
    expect(typeof reflect.defineMetadata).toBe('undefined');
    const manager = new LockManager({ backends: { memory: new MemoryLockBackend() } });
    class Jobs {
      @DistributedLock({ key: 'job:{0}', manager })
      async run(name: string): Promise<string> {
        return `ran ${name}`;
      }
    }
    await expect(new Jobs().run('nightly')).resolves.toBe('ran nightly');
    expect(getDistributedLockMetadata(Jobs.prototype, 'run')).toMatchObject({
      key: 'job:{0}',
      methodName: 'run',
    });
    await manager.close();
  });
});
