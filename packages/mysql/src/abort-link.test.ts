import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { createClosingController, linkAbortSignals } from './abort-link.js';

describe('linkAbortSignals', () => {
  it('aborts with the reason of whichever parent aborts first', () => {
    const [first, second] = [new AbortController(), new AbortController()];
    const link = linkAbortSignals([first.signal, second.signal]);
    second.abort(new Error('second'));
    first.abort(new Error('first'));
    expect(link.signal.aborted).toBe(true);
    expect((link.signal.reason as Error).message).toBe('second');
  });

  it('starts aborted when a parent already is', () => {
    const parent = new AbortController();
    parent.abort('gone');
    expect(linkAbortSignals([parent.signal]).signal.reason).toBe('gone');
  });

  it('dispose() leaves nothing attached to a long-lived parent, however many calls linked to it', () => {
    const closing = createClosingController();
    for (let i = 0; i < 1_000; i++) {
      const link = linkAbortSignals([new AbortController().signal, closing.signal]);
      link.dispose();
    }
    expect(getEventListeners(closing.signal, 'abort')).toHaveLength(0);
  });
});
