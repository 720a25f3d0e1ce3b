import { describe, expect, it } from 'vitest';
import { InvalidLockKeyError, InvalidLockOptionsError, LockBackendError, LockManager } from '../src/index.js';
import { RecordingBackend } from './support/recording-backend.js';

describe('LockManager: bad input fails before any store call', () => {
  const backend = new RecordingBackend();
  // Typed with plain string names, so the misspelled backends below reach the runtime check.
  const manager: LockManager = new LockManager({ backends: { memory: backend } });
  const noop = async () => 'ran';

  it.each([
    ['an empty key', ''],
    ['an empty key list', []],
    ['a key over 1024 characters', 'k'.repeat(1025)],
    ['a non-string key', 42 as unknown as string],
    ['a key built from undefined', `stock:${undefined}`],
    ['a key built from an object', `stock:${{}}`],
    ['a key with a lone high surrogate', 'stock:\uD83D'],
    ['a key with a lone low surrogate', '\uDE00:stock'],
  ])('%s -> InvalidLockKeyError', async (_label, key) => {
    await expect(manager.withLock(key as string, {}, noop)).rejects.toBeInstanceOf(InvalidLockKeyError);
    expect(backend.calls).toEqual([]);
  });

  it.each([
    ['leaseMs 0', { leaseMs: 0 }],
    ['leaseMs negative', { leaseMs: -5 }],
    ['leaseMs Infinity', { leaseMs: Number.POSITIVE_INFINITY }],
    ['leaseMs NaN', { leaseMs: Number.NaN }],
    ['waitMs 0', { retry: { waitMs: 0 } }],
    ['waitMs as a string', { retry: { waitMs: '100' as unknown as number } }],
    ['an unknown backend', { backend: 'redis' }],
    ['retry that is not boolean/object', { retry: 3 as unknown as boolean }],
    ['a signal that is not an AbortSignal', { signal: {} as AbortSignal }],
    ['a 30-day lease (Node would fire its timer after 1 ms)', { leaseMs: 30 * 86_400_000 }],
    ['a 30-day wait', { retry: { waitMs: 30 * 86_400_000 } }],
    ['holdAtLeastMs negative', { holdAtLeastMs: -1 }],
  ])('%s -> InvalidLockOptionsError', async (_label, options) => {
    await expect(manager.withLock('k', options, noop)).rejects.toBeInstanceOf(InvalidLockOptionsError);
    expect(backend.calls).toEqual([]);
  });

  it('a key with a well-formed surrogate pair (emoji) is accepted', async () => {
    await expect(manager.withLock('stock:\u{1F600}', {}, noop)).resolves.toBe('ran');
  });

  it('shows the type of a wrong value (environment variables arrive as strings)', async () => {
    await expect(manager.withLock('k', { leaseMs: '5000' as unknown as number }, noop)).rejects.toThrow(
      /leaseMs must be a positive number of milliseconds up to 2147483647, got "5000" \(string\)/,
    );
    await expect(manager.withLock('k', { leaseMs: 2 ** 31 }, noop)).rejects.toThrow(/about 24\.8 days/);
  });

  it("error.backend is the manager's name for the backend, also on errors the backend threw", async () => {
    const failing = new LockManager({
      backends: {
        spin: {
          acquire: async () => {
            throw new LockBackendError('store down', { backend: 'redis-spin' });
          },
          close: async () => {},
        },
      },
    });
    const error = await failing.withLock('k', {}, noop).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(LockBackendError);
    expect((error as LockBackendError).backend).toBe('spin');
    await failing.close();
  });

  it('names the known backends when the name is wrong', async () => {
    await expect(manager.withLock('k', { backend: 'spin' }, noop)).rejects.toThrow(
      /Unknown lock backend "spin".*"memory"/,
    );
  });

  it('refuses a manager without backends', () => {
    expect(() => new LockManager({ backends: {} })).toThrow(InvalidLockOptionsError);
  });
});
