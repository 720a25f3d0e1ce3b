import { describe, expect, it } from 'vitest';
import { backoffDelayMs } from './spin-backoff.js';

describe('backoffDelayMs', () => {
  const base = { minDelayMs: 10, maxDelayMs: 200 };

  it('doubles from minDelayMs up to maxDelayMs without jitter', () => {
    const delays = Array.from({ length: 8 }, (_, retry) => backoffDelayMs({ ...base, retry, jitter: 0 }));
    expect(delays).toEqual([10, 20, 40, 80, 160, 200, 200, 200]);
  });

  it('takes the jitter share off the top at random', () => {
    expect(backoffDelayMs({ ...base, retry: 2, jitter: 0.5, random: () => 0 })).toBe(40);
    expect(backoffDelayMs({ ...base, retry: 2, jitter: 0.5, random: () => 0.999999 })).toBeCloseTo(20, 3);
    expect(backoffDelayMs({ ...base, retry: 2, jitter: 1, random: () => 0.5 })).toBe(20);
  });

  it('never overflows for huge retry counts', () => {
    expect(backoffDelayMs({ ...base, retry: 10_000, jitter: 0 })).toBe(200);
  });
});
