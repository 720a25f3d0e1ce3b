import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SharedDeadlines, waitOrAbort } from './wait-or-abort.js';

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

describe('waitOrAbort on SharedDeadlines', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('times each wait out at its own deadline, in any order, with one timer', async () => {
    const deadlines = new SharedDeadlines();
    const outcomes: string[] = [];
    for (const timeoutMs of [300, 100, 200]) {
      waitOrAbort(new Promise(() => {}), {
        timeoutMs,
        timeoutError: () => `late ${timeoutMs}`,
        deadlines,
      }).catch((error: unknown) => outcomes.push(String(error)));
    }
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(99);
    expect(outcomes).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(outcomes).toEqual(['late 100']);
    await vi.advanceTimersByTimeAsync(200);
    expect(outcomes).toEqual(['late 100', 'late 200', 'late 300']);
    expect(deadlines.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a settled wait leaves the heap at once; the idle timer stops at its next firing', async () => {
    const deadlines = new SharedDeadlines();
    const onAbandoned = vi.fn();
    await expect(
      waitOrAbort(Promise.resolve(7), {
        timeoutMs: 1_000,
        timeoutError: () => 'late',
        deadlines,
        onAbandoned,
      }),
    ).resolves.toBe(7);
    expect(deadlines.size).toBe(0);
    let resolveLater!: (value: number) => void;
    const later = waitOrAbort(new Promise<number>((resolve) => (resolveLater = resolve)), {
      timeoutMs: 5_000,
      timeoutError: () => 'late',
      deadlines,
    });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(deadlines.size).toBe(1);
    resolveLater(8);
    await expect(later).resolves.toBe(8);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(vi.getTimerCount()).toBe(0);
    expect(onAbandoned).not.toHaveBeenCalled();
  });

  it('an abort takes the wait out of the heap and rejects with the reason', async () => {
    const deadlines = new SharedDeadlines();
    const controller = new AbortController();
    const wait = waitOrAbort(new Promise(() => {}), {
      signal: controller.signal,
      timeoutMs: 1_000,
      timeoutError: () => 'late',
      deadlines,
    });
    controller.abort('stop');
    await expect(wait).rejects.toBe('stop');
    expect(deadlines.size).toBe(0);
  });
});
