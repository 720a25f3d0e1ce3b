import { describe, expect, it } from 'vitest';
import { linkAbortSignals } from './abort-link.js';

describe('linkAbortSignals', () => {
  it('aborts with the reason of the first parent that aborts', () => {
    const [a, b] = [new AbortController(), new AbortController()];
    const link = linkAbortSignals([a.signal, b.signal]);
    b.abort('b first');
    a.abort('a later');
    expect(link.signal.aborted).toBe(true);
    expect(link.signal.reason).toBe('b first');
  });

  it('is aborted at once when a parent already is', () => {
    const link = linkAbortSignals([new AbortController().signal, AbortSignal.abort('done')]);
    expect(link.signal.reason).toBe('done');
  });

  it('after dispose() a parent abort no longer reaches it', () => {
    const parent = new AbortController();
    const link = linkAbortSignals([parent.signal]);
    link.dispose();
    parent.abort();
    expect(link.signal.aborted).toBe(false);
  });
});
