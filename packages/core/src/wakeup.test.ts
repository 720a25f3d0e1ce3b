import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Wakeup } from './wakeup.js';

describe('Wakeup', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('sleeps until notified, and leaves no timer', async () => {
    const wakeup = new Wakeup();
    const sleeping = wakeup.sleep(10_000, new AbortController().signal);
    wakeup.notify();
    await expect(sleeping).resolves.toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('returns false when the time is up', async () => {
    const sleeping = new Wakeup().sleep(100, new AbortController().signal);
    await vi.advanceTimersByTimeAsync(100);
    await expect(sleeping).resolves.toBe(false);
  });

  it('keeps a wake-up that came while awake, until consumed', async () => {
    const wakeup = new Wakeup();
    wakeup.notify();
    await expect(wakeup.sleep(10_000, new AbortController().signal)).resolves.toBe(true);
    wakeup.consume();
    const sleeping = wakeup.sleep(50, new AbortController().signal);
    await vi.advanceTimersByTimeAsync(50);
    await expect(sleeping).resolves.toBe(false);
  });

  it('rejects with the reason on abort and leaves no timer', async () => {
    const controller = new AbortController();
    const sleeping = new Wakeup().sleep(10_000, controller.signal);
    controller.abort('closing');
    await expect(sleeping).rejects.toBe('closing');
    expect(vi.getTimerCount()).toBe(0);
  });
});
