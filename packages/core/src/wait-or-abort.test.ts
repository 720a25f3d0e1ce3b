import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { waitOrAbort } from './wait-or-abort.js';

describe('waitOrAbort', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('passes the value through and leaves no timer', async () => {
    await expect(
      waitOrAbort(Promise.resolve(7), { timeoutMs: 1_000, timeoutError: () => 'late' }),
    ).resolves.toBe(7);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('passes a rejection through without calling onAbandoned', async () => {
    const onAbandoned = vi.fn();
    const failing = waitOrAbort(Promise.reject(new Error('boom')), {
      timeoutMs: 1_000,
      timeoutError: () => 'late',
      onAbandoned,
    });
    await expect(failing).rejects.toThrow('boom');
    expect(onAbandoned).not.toHaveBeenCalled();
  });

  it('rejects with timeoutError() after timeoutMs and tells onAbandoned once', async () => {
    const onAbandoned = vi.fn();
    let resolveLate!: (value: number) => void;
    const wait = waitOrAbort(new Promise<number>((resolve) => (resolveLate = resolve)), {
      timeoutMs: 100,
      timeoutError: () => new Error('no answer'),
      onAbandoned,
    });
    const outcome = expect(wait).rejects.toThrow('no answer');
    await vi.advanceTimersByTimeAsync(100);
    await outcome;
    resolveLate(1);
    await vi.advanceTimersByTimeAsync(0);
    expect(onAbandoned).toHaveBeenCalledTimes(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('rejects with the signal reason at once on abort, and at once for a signal already aborted', async () => {
    const controller = new AbortController();
    const onAbandoned = vi.fn();
    const wait = waitOrAbort(new Promise(() => {}), {
      signal: controller.signal,
      timeoutMs: 10_000,
      timeoutError: () => 'late',
      onAbandoned,
    });
    controller.abort('stop');
    await expect(wait).rejects.toBe('stop');
    await expect(
      waitOrAbort(new Promise(() => {}), {
        signal: controller.signal,
        timeoutMs: 10,
        timeoutError: () => 'late',
        onAbandoned,
      }),
    ).rejects.toBe('stop');
    expect(onAbandoned).toHaveBeenCalledTimes(2);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('waits out a timeout beyond what Node can time, instead of firing after 1 ms', async () => {
    const wait = waitOrAbort(new Promise(() => {}), {
      timeoutMs: 2 ** 31 + 1_000,
      timeoutError: () => 'late',
    });
    let settled = false;
    wait.catch(() => {}).finally(() => (settled = true));
    await vi.advanceTimersByTimeAsync(10);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(2 ** 31 - 1);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1_100);
    expect(settled).toBe(true);
  });
});
