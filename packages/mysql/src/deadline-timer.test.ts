import { MAX_DURATION_MS } from '@dlock/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { setDeadlineTimer } from './deadline-timer.js';

describe('setDeadlineTimer', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('fires at the deadline, asynchronously even when the deadline has passed', () => {
    const fired = vi.fn();
    setDeadlineTimer(Date.now() - 10, fired);
    expect(fired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(0);
    expect(fired).toHaveBeenCalledOnce();
  });

  it('does not fire early for a deadline beyond what one Node timer can hold', () => {
    const fired = vi.fn();
    setDeadlineTimer(Date.now() + MAX_DURATION_MS + 5_000, fired);
    vi.advanceTimersByTime(MAX_DURATION_MS);
    expect(fired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(5_000);
    expect(fired).toHaveBeenCalledOnce();
  });

  it('clear() stops it', () => {
    const fired = vi.fn();
    setDeadlineTimer(Date.now() + 100, fired).clear();
    vi.advanceTimersByTime(1_000);
    expect(fired).not.toHaveBeenCalled();
  });
});
