import { afterEach, describe, expect, it, vi } from 'vitest';
import { cancelAfterTick, scheduleAfterTick } from './after-tick.js';

const nextTick = () => new Promise((resolve) => process.nextTick(resolve));

describe('scheduleAfterTick', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('runs the tasks of a tick once that tick is over, in order, each once', async () => {
    const ran: string[] = [];
    const a = { runAfterTick: () => ran.push('a') };
    const b = { runAfterTick: () => ran.push('b') };
    scheduleAfterTick(a);
    scheduleAfterTick(b);
    scheduleAfterTick(a);
    expect(ran).toEqual([]);
    await nextTick();
    expect(ran).toEqual(['a', 'b']);
  });

  it('skips a task cancelled before it ran, also by an earlier task of the same batch', async () => {
    const ran: string[] = [];
    const later = { runAfterTick: () => ran.push('later') };
    const cancelled = { runAfterTick: () => ran.push('cancelled') };
    scheduleAfterTick({ runAfterTick: () => cancelAfterTick(later) });
    scheduleAfterTick(later);
    scheduleAfterTick(cancelled);
    cancelAfterTick(cancelled);
    await nextTick();
    expect(ran).toEqual([]);
  });

  it('a task that throws does not keep the others from running; its error is thrown on its own', async () => {
    const thrown: unknown[] = [];
    vi.spyOn(globalThis, 'queueMicrotask').mockImplementation((callback) => {
      try {
        callback();
      } catch (error) {
        thrown.push(error);
      }
    });
    const ran: string[] = [];
    const failure = new Error('getter failed');
    scheduleAfterTick({
      runAfterTick: () => {
        throw failure;
      },
    });
    scheduleAfterTick({ runAfterTick: () => ran.push('next lock armed') });
    await nextTick();
    expect(ran).toEqual(['next lock armed']);
    expect(thrown).toEqual([failure]);
  });
});
