import { describe, expect, it, vi } from 'vitest';
import { AbortLinks, abortableDelay, linkAbortSignals, onAbort } from './abort-link.js';

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

describe('onAbort', () => {
  it('adds one real listener to a signal however many calls subscribe, and removes it when all left', () => {
    const parent = new AbortController();
    const added: string[] = [];
    const original = parent.signal.addEventListener.bind(parent.signal);
    parent.signal.addEventListener = ((...args: Parameters<AbortSignal['addEventListener']>) => {
      added.push(args[0]);
      original(...args);
    }) as AbortSignal['addEventListener'];
    const unsubscribes = Array.from({ length: 50 }, () => onAbort(parent.signal, () => {}));
    expect(added).toEqual(['abort']);
    for (const unsubscribe of unsubscribes) unsubscribe();
    onAbort(parent.signal, () => {})();
    expect(added).toEqual(['abort', 'abort']);
  });

  it('calls every current subscriber once on abort, and none that unsubscribed', () => {
    const parent = new AbortController();
    const calls: number[] = [];
    onAbort(parent.signal, () => calls.push(1));
    const leave = onAbort(parent.signal, () => calls.push(2));
    onAbort(parent.signal, () => calls.push(3));
    leave();
    parent.abort();
    parent.abort();
    expect(calls).toEqual([1, 3]);
  });

  it('does not warn about listeners when 100 calls share one caller signal', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.name);
    process.on('warning', onWarning);
    const parent = new AbortController();
    const links = Array.from({ length: 100 }, () => linkAbortSignals([parent.signal]));
    await new Promise((resolve) => setImmediate(resolve));
    process.off('warning', onWarning);
    parent.abort('stop');
    expect(links.every((link) => link.signal.reason === 'stop')).toBe(true);
    expect(warnings).not.toContain('MaxListenersExceededWarning');
  });
});

describe('abortableDelay', () => {
  it('resolves after the delay and leaves no listener behind', async () => {
    vi.useFakeTimers();
    try {
      const parent = new AbortController();
      const delay = abortableDelay(100, parent.signal);
      await vi.advanceTimersByTimeAsync(100);
      await expect(delay).resolves.toBeUndefined();
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it('rejects with the reason at once on abort and clears its timer', async () => {
    vi.useFakeTimers();
    try {
      const parent = new AbortController();
      const delay = abortableDelay(10_000, parent.signal);
      parent.abort('gave up');
      await expect(delay).rejects.toBe('gave up');
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('AbortLinks', () => {
  it('calls with the same signal share one link, which aborts with the parent or the closing signal', () => {
    const closing = new AbortController();
    const links = new AbortLinks(closing.signal);
    const manager = new AbortController();
    const first = links.link(manager.signal);
    const second = links.link(manager.signal);
    expect(second.signal).toBe(first.signal);
    first.dispose();
    second.dispose();
    expect(links.link(manager.signal).signal).toBe(first.signal);
    closing.abort('closed');
    expect(first.signal.reason).toBe('closed');
  });

  it('a link replaced by another signal is detached once its last call ends', () => {
    const links = new AbortLinks(new AbortController().signal);
    const old = new AbortController();
    const oldLink = links.link(old.signal);
    const other = new AbortController();
    const otherLink = links.link(other.signal);
    expect(otherLink.signal).not.toBe(oldLink.signal);
    old.abort('still reaches the call in flight');
    expect(oldLink.signal.reason).toBe('still reaches the call in flight');
    otherLink.dispose();
    const third = new AbortController();
    links.link(third.signal).dispose();
    other.abort('detached');
    expect(otherLink.signal.aborted).toBe(false);
  });

  it('a parent aborted already gives an aborted link of its own', () => {
    const links = new AbortLinks(new AbortController().signal);
    const link = links.link(AbortSignal.abort('done'));
    expect(link.signal.reason).toBe('done');
  });
});
