import { describe, expect, it } from 'vitest';
import { ConnectionSlots } from './connection-slots.js';

describe('ConnectionSlots', () => {
  const never = new AbortController().signal;

  it('hands out up to capacity, then refuses try-once callers', async () => {
    const slots = new ConnectionSlots(2);
    expect(await slots.take(0, never)).toBe(true);
    expect(await slots.take(0, never)).toBe(true);
    expect(await slots.take(0, never)).toBe(false);
    expect(slots.inUse).toBe(2);
  });

  it('gives a returned slot to the longest waiter first', async () => {
    const slots = new ConnectionSlots(1);
    await slots.take(0, never);
    const order: number[] = [];
    const first = slots.take(5_000, never).then(() => order.push(1));
    const second = slots.take(5_000, never).then(() => order.push(2));
    slots.give();
    await first;
    slots.give();
    await second;
    expect(order).toEqual([1, 2]);
  });

  it('times out with false and rejects on abort', async () => {
    const slots = new ConnectionSlots(1);
    await slots.take(0, never);
    expect(await slots.take(30, never)).toBe(false);
    const controller = new AbortController();
    const waiting = slots.take(5_000, controller.signal);
    controller.abort(new Error('gave up'));
    await expect(waiting).rejects.toThrow('gave up');
    slots.give();
    expect(await slots.take(0, never)).toBe(true);
  });
});
