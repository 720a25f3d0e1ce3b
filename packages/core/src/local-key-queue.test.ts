import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LocalKeyQueue } from './local-key-queue.js';

const never = () => new AbortController().signal;

describe('LocalKeyQueue', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('admits the first caller at once, refuses a try-once second, and forgets the key when left', async () => {
    const queue = new LocalKeyQueue();
    await expect(queue.enter('k', 0, never())).resolves.toBe('admitted');
    await expect(queue.enter('k', 0, never())).resolves.toBe('busy');
    queue.leave('k');
    expect(queue.isEntered('k')).toBe(false);
  });

  it('hands the turn in arrival order', async () => {
    const queue = new LocalKeyQueue();
    await queue.enter('k', 0, never());
    const order: number[] = [];
    const second = queue.enter('k', 1_000, never()).then(() => order.push(2));
    const third = queue.enter('k', 1_000, never()).then(() => order.push(3));
    queue.leave('k');
    await second;
    queue.leave('k');
    await third;
    expect(order).toEqual([2, 3]);
    queue.leave('k');
    expect(queue.isEntered('k')).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('times out, and a timed-out waiter is skipped by the next hand-over', async () => {
    const queue = new LocalKeyQueue();
    await queue.enter('k', 0, never());
    const early = queue.enter('k', 100, never());
    const late = queue.enter('k', 10_000, never());
    await vi.advanceTimersByTimeAsync(100);
    await expect(early).resolves.toBe('timeout');
    queue.leave('k');
    await expect(late).resolves.toBe('admitted');
  });

  it('an abort rejects with the reason and leaves no timer', async () => {
    const queue = new LocalKeyQueue();
    await queue.enter('k', 0, never());
    const controller = new AbortController();
    const waiting = queue.enter('k', 10_000, controller.signal);
    controller.abort('gone');
    await expect(waiting).rejects.toBe('gone');
    expect(vi.getTimerCount()).toBe(0);
    queue.leave('k');
    expect(queue.isEntered('k')).toBe(false);
  });

  it('a waiter handed the turn in the same tick it aborts passes the turn on', async () => {
    const queue = new LocalKeyQueue();
    await queue.enter('k', 0, never());
    const controller = new AbortController();
    const aborted = queue.enter('k', 10_000, controller.signal);
    const next = queue.enter('k', 10_000, never());
    queue.leave('k');
    controller.abort('gone');
    await expect(aborted).rejects.toBe('gone');
    await expect(next).resolves.toBe('admitted');
  });

  it('keeps one timer per key however many wait, and times each out at its own deadline', async () => {
    const queue = new LocalKeyQueue();
    await queue.enter('k', 0, never());
    const outcomes: string[] = [];
    for (const waitMs of [300, 100, 200, 400]) {
      void queue.enter('k', waitMs, never()).then((turn) => outcomes.push(`${waitMs}:${turn}`));
    }
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(99);
    expect(outcomes).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(outcomes).toEqual(['100:timeout']);
    await vi.advanceTimersByTimeAsync(200);
    expect(outcomes).toEqual(['100:timeout', '200:timeout', '300:timeout']);
    queue.leave('k');
    await vi.advanceTimersByTimeAsync(0);
    expect(outcomes.at(-1)).toBe('400:admitted');
    // The last waiter is in: no timer is left to keep the process alive.
    expect(vi.getTimerCount()).toBe(0);
    queue.leave('k');
    expect(queue.isEntered('k')).toBe(false);
  });
});
